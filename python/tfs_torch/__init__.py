"""tfs models and recipes in PyTorch: `load` a tfs checkpoint as an nn.Module, `save` one that
tfs's load_model and train(resume=) read."""
from .checkpoint import load, save
from .config import ModelConfig
from .errors import CheckpointError
from .model import Inputs, Transfusion
from .vae import VAE, load_vae

__all__ = ["load", "save", "load_vae", "ModelConfig", "CheckpointError", "Inputs", "Transfusion", "VAE"]
