"""A run file (`export_run` in a tfs script writes it; docs/scale.md), read strictly."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional

from .errors import CheckpointError
from .recipe import Policy

FORMAT = "tfs-run-1"
FIELDS = {"format", "init", "data", "loss", "train", "checkpoint", "save_every", "keep"}
TRAIN_FIELDS = {"steps", "batch", "length", "seed", "lr", "clip", "on_nonfinite", "image_first", "caption_noise",
                "cfg_dropout", "adamw"}


@dataclass
class Run:
    folder: str
    init: str
    data: dict
    lm_weight: float
    diffusion_weight: float
    steps: int
    batch: int
    length: int
    seed: int
    lr: dict
    clip: Optional[float]
    on_nonfinite: str
    policy: Policy
    adamw: dict
    checkpoint: Optional[str]
    save_every: int
    keep: int

    def path(self, name: str) -> str:
        return name if os.path.isabs(name) else os.path.join(self.folder, name)


def read(path: str) -> Run:
    try:
        raw = json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable run file ({e})") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path}: a run file is a JSON object")
    if raw.get("format") != FORMAT:
        raise CheckpointError(f"{path}: its format is {raw.get('format')!r}, not '{FORMAT}'")
    for fields, obj, where in [(FIELDS, raw, ""), (TRAIN_FIELDS, raw.get("train", {}), "train.")]:
        unknown = sorted(set(obj) - fields)
        if unknown:
            raise CheckpointError(f"{path}: the run file has the field '{where}{unknown[0]}', which this trainer does not know")
        missing = sorted(fields - set(obj) - {"checkpoint"})
        if missing:
            raise CheckpointError(f"{path}: the run file has no '{where}{missing[0]}'")
    t = raw["train"]
    return Run(folder=os.path.dirname(os.path.abspath(path)), init=raw["init"], data=raw["data"],
               lm_weight=raw["loss"]["lm"], diffusion_weight=raw["loss"]["diffusion"], steps=t["steps"], batch=t["batch"],
               length=t["length"], seed=t["seed"], lr=t["lr"], clip=t["clip"], on_nonfinite=t["on_nonfinite"],
               policy=Policy(t["image_first"], t["caption_noise"], t["cfg_dropout"]), adamw=t["adamw"],
               checkpoint=raw.get("checkpoint"), save_every=raw["save_every"], keep=raw["keep"])
