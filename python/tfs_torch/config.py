"""A tfs model's config (Sources/Transfusion/Model/ModelConfig.swift), read strictly.

The checkpoint's `config` metadata is JSON. Every field is checked as tfs checks it
(`ModelConfig.problem`), and fields this reader does not know are refused: a newer tfs may
have added one that changes what the weights mean.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from .errors import CheckpointError

MAX_DIM, MAX_LAYERS, MAX_PATCH_SIZE, MAX_IMAGE_SIDE = 16_384, 1024, 65_536, 4096
MAX_PATCHES_PER_IMAGE, MAX_CHANNELS, MAX_DIFFUSION_STEPS, MAX_MERGES = 16_384, 1024, 100_000, 1 << 20
FIRST_MERGE = 261
KNOWN_FIELDS = {"dim", "layers", "heads", "vocabulary", "tokenizer", "patchSize", "timeFeatures", "imageSide",
                "channels", "latent", "schedule", "objective", "encoder", "codebook", "pieces"}


@dataclass
class Schedule:
    """A noise schedule: 'cosine' (with its offset s) or 'linear' over `steps` steps, or a
    'table' of ᾱ(1…T) (a script function's values, `name` for printing)."""
    kind: str = "cosine"
    steps: int = 1000
    offset: float = 0.008
    name: str = ""
    table: tuple = ()

    def to_json(self):
        if self.kind == "cosine":
            return {"cosine": {"steps": self.steps, "offset": self.offset}}
        if self.kind == "table":
            return {"table": {"name": self.name, "alphaBars": list(self.table)}}
        return {"linear": {"steps": self.steps}}


@dataclass
class ModelConfig:
    dim: int = 128
    layers: int = 4
    heads: int = 4
    merges: List[Tuple[int, int]] = field(default_factory=list)
    patch_size: int = 48
    time_features: int = 64
    image_side: int = 16
    channels: int = 3
    latent: bool = False
    schedule: Schedule = field(default_factory=Schedule)
    objective: str = "eps"
    encoder: str = "linear"

    @property
    def vocabulary(self) -> int:
        return FIRST_MERGE + len(self.merges)

    @property
    def hidden(self) -> int:
        return (8 * self.dim // 3 + 31) // 32 * 32

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def patch_side(self) -> Optional[int]:
        p = int(round(math.sqrt(self.patch_size // max(self.channels, 1))))
        return p if p > 0 and p * p * self.channels == self.patch_size and self.image_side % p == 0 else None

    @property
    def patches_per_image(self) -> Optional[int]:
        p = self.patch_side
        return None if p is None else (self.image_side // p) ** 2

    # JSON

    def to_json(self) -> str:
        return json.dumps({
            "dim": self.dim, "layers": self.layers, "heads": self.heads, "vocabulary": self.vocabulary,
            "tokenizer": {"merges": [list(m) for m in self.merges]}, "patchSize": self.patch_size,
            "timeFeatures": self.time_features, "imageSide": self.image_side, "channels": self.channels,
            "latent": self.latent, "schedule": self.schedule.to_json(), "objective": self.objective,
            "encoder": self.encoder,
        }, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "ModelConfig":
        try:
            raw = json.loads(text)
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"the model config is not JSON ({e})") from None
        if not isinstance(raw, dict):
            raise CheckpointError("the model config must be a JSON object")
        unknown = sorted(set(raw) - KNOWN_FIELDS)
        if unknown:
            raise CheckpointError(f"the model config has the field '{unknown[0]}', which this reader does not know "
                                  "(written by a newer tfs?)")
        if raw.get("pieces"):
            slots = ", ".join(sorted(raw["pieces"])) if isinstance(raw["pieces"], dict) else str(raw["pieces"])
            raise CheckpointError(f"the model config's pieces ({slots}): pieces written in a tfs script have no PyTorch counterpart")
        if raw.get("codebook") is not None:
            raise CheckpointError("the model config's codebook: Chameleon (codebook) models are not represented in PyTorch")
        c = ModelConfig()
        for name, attr in [("dim", "dim"), ("layers", "layers"), ("heads", "heads"), ("patchSize", "patch_size")]:
            if name not in raw:
                raise CheckpointError(f"the model config has no '{name}'")
            setattr(c, attr, _int(raw, name))
        for name, attr in [("timeFeatures", "time_features"), ("imageSide", "image_side"), ("channels", "channels")]:
            if name in raw:
                setattr(c, attr, _int(raw, name))
        if "latent" in raw:
            if not isinstance(raw["latent"], bool):
                raise CheckpointError("the model config's latent must be true or false")
            c.latent = raw["latent"]
        if "tokenizer" in raw:
            c.merges = _merges(raw["tokenizer"])
        if "schedule" in raw:
            c.schedule = _schedule(raw["schedule"])
        for name in ("objective", "encoder"):
            if name in raw:
                allowed = ("eps", "v", "flow") if name == "objective" else ("linear", "unet")
                if raw[name] not in allowed:
                    raise CheckpointError(f"the model config's {name} must be one of {', '.join(allowed)}, got {raw[name]!r}")
                setattr(c, name, raw[name])
        if "vocabulary" in raw and _int(raw, "vocabulary") != c.vocabulary:
            raise CheckpointError(f"the model config's vocabulary is {raw['vocabulary']} but its tokenizer makes {c.vocabulary}")
        problem = c.problem()
        if problem:
            raise CheckpointError(problem)
        return c

    def problem(self) -> Optional[str]:
        """Why this config cannot make a model, naming the field (tfs's `ModelConfig.problem`)."""
        for name, value, lo, hi in [("dim", self.dim, 2, MAX_DIM), ("layers", self.layers, 1, MAX_LAYERS),
                                    ("heads", self.heads, 1, self.dim), ("patchSize", self.patch_size, 1, MAX_PATCH_SIZE),
                                    ("timeFeatures", self.time_features, 1, MAX_DIM),
                                    ("imageSide", self.image_side, 1, MAX_IMAGE_SIDE), ("channels", self.channels, 1, MAX_CHANNELS),
                                    ("schedule steps", self.schedule.steps, 1, MAX_DIFFUSION_STEPS),
                                    ("tokenizer merges", len(self.merges), 0, MAX_MERGES)]:
            if not lo <= value <= hi:
                return f"the model config's {name} must be from {lo} to {hi}, got {value}"
        if self.dim % self.heads or self.head_dim % 2:
            return f"the model config's dim {self.dim} must split into {self.heads} heads of an even size"
        if self.schedule.kind == "cosine" and not 0 <= self.schedule.offset < 1:
            return f"the model config's cosine schedule offset must be in [0, 1), got {self.schedule.offset}"
        n = self.patches_per_image
        if n is None:
            return (f"the model config's patchSize {self.patch_size} is not square patches of {self.channels} channels "
                    f"dividing the image side {self.image_side} (PyTorch models need image patches)")
        if n > MAX_PATCHES_PER_IMAGE:
            return f"the model config's imageSide {self.image_side} makes {n} patches per image (at most {MAX_PATCHES_PER_IMAGE})"
        if self.encoder == "unet":
            p = self.patch_side
            if p not in (1, 2, 4, 8):
                return "the model config: the unet encoder needs square patches of side 1, 2, 4 or 8"
            if self.dim % p:
                return f"the model config: the unet encoder needs dim divisible by the patch side {p}"
        return None


def _int(raw, name):
    v = raw[name]
    if isinstance(v, bool) or not isinstance(v, int):
        raise CheckpointError(f"the model config's {name} must be an integer, got {v!r}")
    return v


def _merges(tokenizer) -> List[Tuple[int, int]]:
    if not isinstance(tokenizer, dict) or set(tokenizer) != {"merges"}:
        raise CheckpointError("the model config's tokenizer must be an object with exactly 'merges'")
    merges = tokenizer["merges"]
    if not isinstance(merges, list):
        raise CheckpointError("the model config's tokenizer merges must be a list of pairs")
    out, seen = [], set()
    for k, pair in enumerate(merges):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)):
            raise CheckpointError(f"the model config's tokenizer merge {k} must be a pair of token ids")
        for part in pair:
            if not (0 <= part < 256 or FIRST_MERGE <= part < FIRST_MERGE + k):
                raise CheckpointError(f"the model config's tokenizer merge {k} joins token {part}, which is neither a byte nor an earlier merge")
        if tuple(pair) in seen:
            raise CheckpointError(f"the model config's tokenizer merge {k} joins {pair[0]} and {pair[1]} a second time")
        seen.add(tuple(pair))
        out.append((pair[0], pair[1]))
    return out


def _schedule(raw) -> Schedule:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise CheckpointError("the model config's schedule must be an object with one key, 'cosine', 'linear' or 'table'")
    (kind, body), = raw.items()
    fields = {"cosine": ({"steps", "offset"}, {"steps"}), "linear": ({"steps"}, {"steps"}),
              "table": ({"name", "alphaBars"}, {"alphaBars"})}.get(kind)
    if fields is None:
        raise CheckpointError(f"the model config's schedule must be 'cosine', 'linear' or 'table', got {kind!r}")
    allowed, required = fields
    if not isinstance(body, dict) or not set(body) <= allowed or not required <= set(body):
        raise CheckpointError(f"the model config's {kind} schedule takes {', '.join(sorted(allowed))}, got {body!r}")
    if kind == "table":
        values = body["alphaBars"]
        if not isinstance(values, list) or not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise CheckpointError("the model config's table schedule's alphaBars must be a list of numbers")
        bad = next((i for i, v in enumerate(values) if not (0 < v <= 1)), None)
        if bad is not None:
            raise CheckpointError(f"the model config's noise schedule: ᾱ at step {bad + 1} is {values[bad]}; every value must be in (0, 1]")
        rise = next((i for i in range(1, len(values)) if values[i] > values[i - 1]), None)
        if rise is not None:
            raise CheckpointError(f"the model config's noise schedule: ᾱ rises at step {rise + 1}")
        return Schedule("table", len(values), name=str(body.get("name", "")), table=tuple(float(v) for v in values))
    steps = body["steps"]
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise CheckpointError(f"the model config's schedule steps must be an integer, got {steps!r}")
    offset = body.get("offset", 0.008)
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise CheckpointError(f"the model config's cosine schedule offset must be a number, got {offset!r}")
    return Schedule(kind, steps, float(offset))
