"""Parameters under tfs's names. A tfs name (`block0.attn.wq`, `unet.out` beside
`unet.out.norm.weight`) is not always a valid module path, so each is registered on the model
with its dots written as `__`; `tfs_name` and `torch_name` convert."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def torch_name(name: str) -> str:
    return name.replace(".", "__")


def tfs_name(name: str) -> str:
    return name.replace("__", ".")


def put(root: nn.Module, name: str, shape: Sequence[int]) -> nn.Parameter:
    """Registers a zero parameter for the tfs name `name` on `root`."""
    p = nn.Parameter(torch.zeros(*shape))
    root.register_parameter(torch_name(name), p)
    return p
