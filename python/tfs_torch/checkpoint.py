"""tfs checkpoints (docs/architecture.md, "Checkpoints"): one safetensors file with every
parameter under its name, AdamW's moments under optimizer.m.NAME / optimizer.v.NAME, and string
metadata: format 'tfs-checkpoint-1', step, optimizer_steps, skipped_steps, rng, config, mask.

Reading trusts nothing: the header, the config and the mask are checked, and every tensor the
config describes must be there with its shape, before a module is made."""
from __future__ import annotations

import json
import os
import struct
import tempfile
from typing import Dict, Optional

import torch
from safetensors.torch import load_file, save_file

from . import masks as mask_algebra
from .config import ModelConfig
from .errors import CheckpointError
from .model import Transfusion

FORMAT = "tfs-checkpoint-1"
MAX_HEADER = 100 << 20


def read_header(path: str) -> dict:
    """The safetensors header (JSON), checked against the file's size."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else None
            raw = f.read(n) if n is not None and n <= min(size - 8, MAX_HEADER) else None
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror}") from None
    if n is None:
        raise CheckpointError(f"{path} is truncated: {len(head)} bytes, not even a safetensors header length")
    if raw is None:
        raise CheckpointError(f"{path} is not a safetensors file, or is truncated: its header length {n} exceeds the file")
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{path}: its safetensors header is not JSON") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: its safetensors header is not a JSON object")
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)
               and isinstance(v.get("data_offsets"), list) and len(v["data_offsets"]) == 2), default=0)
    if 8 + n + end > size:
        raise CheckpointError(f"{path} is truncated: its tensors need {8 + n + end} bytes, the file has {size}")
    return header


def read(path: str):
    """(config, mask, tensors, metadata) of a tfs checkpoint, checked."""
    header = read_header(path)
    meta = header.get("__metadata__") or {}
    fmt = meta.get("format")
    if fmt != FORMAT:
        if fmt is not None and fmt.startswith("tfs-checkpoint-"):
            raise CheckpointError(f"{path}: its format is '{fmt}', newer than this reader's '{FORMAT}'")
        raise CheckpointError(f"{path} is not a tfs checkpoint (its format metadata is "
                              f"{repr(fmt) if fmt is not None else 'missing'}, not '{FORMAT}')")
    if "config" not in meta:
        raise CheckpointError(f"{path} holds no model config (its config metadata is missing)")
    try:
        config = ModelConfig.from_json(meta["config"])
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
    try:
        mask = mask_algebra.parse(meta["mask"]) if "mask" in meta else mask_algebra.CAUSAL_SAME_IMAGE
    except CheckpointError as e:
        raise CheckpointError(f"{path}: the checkpoint's mask: {e}") from None
    try:
        tensors = load_file(path)
    except Exception as e:  # the safetensors library's own errors
        raise CheckpointError(f"{path}: its tensors cannot be read ({e})") from None
    return config, mask, tensors, meta


def load(path: str, device: Optional[str] = None) -> Transfusion:
    """The model a tfs checkpoint holds: its config and mask from the metadata, its weights."""
    config, mask, tensors, meta = read(path)
    model = Transfusion(config, mask)
    state = model.weights()
    for name, value in state.items():
        saved = tensors.get(name)
        if saved is None:
            raise CheckpointError(f"{path} has no tensor '{name}'")
        if list(saved.shape) != list(value.shape):
            raise CheckpointError(f"{path}: tensor '{name}' is {list(saved.shape)}, but the model's config makes it {list(value.shape)}")
        if saved.dtype != torch.float32:
            raise CheckpointError(f"{path}: tensor '{name}' is {saved.dtype}, not float32")
    with torch.no_grad():
        for name, p in state.items():
            p.copy_(tensors[name])
    model.checkpoint = {"path": path, "metadata": meta, "tensors": tensors}
    return model.to(device) if device else model


def state(model: Transfusion, optimizer: Optional[Dict[str, dict]] = None, *, step: int = 0, optimizer_steps: int = 0,
          skipped_steps: int = 0, rng=(1, 2, 3, 4), extra: Optional[Dict[str, torch.Tensor]] = None) -> tuple:
    """The tensors and metadata of a checkpoint of `model`; `optimizer` maps names to {'m', 'v'};
    `extra` tensors ride along (tfs reads past them)."""
    tensors = dict(extra or {})
    for name, p in model.weights().items():
        w = p.detach().float().cpu().contiguous()
        if not torch.isfinite(w).all():
            raise CheckpointError(f"refusing to write a checkpoint: '{name}' holds NaN or ±Inf values")
        tensors[name] = w
        moments = (optimizer or {}).get(name, {})
        for key in ("m", "v"):
            tensors[f"optimizer.{key}.{name}"] = moments.get(key, torch.zeros_like(w)).detach().float().cpu().contiguous()
    metadata = {"format": FORMAT, "step": str(step), "optimizer_steps": str(optimizer_steps), "skipped_steps": str(skipped_steps),
                "rng": ",".join(str(int(w)) for w in rng), "config": model.config.to_json(), "mask": mask_algebra.to_json(model.mask)}
    return tensors, metadata


def save(model: Transfusion, path: str, optimizer: Optional[Dict[str, dict]] = None, **counters) -> None:
    """Writes `model` as a tfs checkpoint, atomically (a temporary file renamed into place)."""
    tensors, metadata = state(model, optimizer, **counters)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
