"""Packed rows and their images into a step's model inputs (Sources/Transfusion/Model/BatchFeeder.swift):
each image gets a diffusion step t (1…T, or 0…cap for a capped image; 0 is a clean context image
that takes no diffusion loss) and noise ε; its patches become x_t and the objective's target;
RoPE tables come from the rows' positions and the mask from their layouts (the model's mask
within each example)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import torch

from . import masks as mask_algebra
from .diffusion import rope_tables, timestep_features
from .model import Inputs
from .packing import PATCH, Row


@dataclass
class Batch:
    inputs: Inputs
    targets: torch.Tensor    # [B, T] next-token ids, −1 where no LM loss
    noise: torch.Tensor      # [B, T, patchSize] the objective's target at patches
    learned: torch.Tensor    # [B, T] patches that take the diffusion loss
    steps: List[float]       # each image's step, in row order
    layout: tuple = None     # (kind, image, document) [B, T]: for FlexAttention's block mask

    def slice(self, rows: slice) -> "Batch":
        """These rows only (every input is per row)."""
        i = self.inputs
        return Batch(Inputs(*(getattr(i, f)[rows] for f in ("tokens", "is_patch", "patches", "time", "cos", "sin", "mask"))),
                     self.targets[rows], self.noise[rows], self.learned[rows], self.steps,
                     tuple(t[rows] for t in self.layout) if self.layout else None)

    def to(self, device):
        i = self.inputs
        return Batch(Inputs(*(getattr(i, f).to(device) for f in ("tokens", "is_patch", "patches", "time", "cos", "sin", "mask"))),
                     self.targets.to(device), self.noise.to(device), self.learned.to(device), self.steps,
                     tuple(t.to(device) for t in self.layout) if self.layout else None)


def draw_step(limit: Optional[int], steps: int, generator: torch.Generator) -> int:
    """A step for an image: 1…T, or 0…limit when the limit is below T."""
    if limit is not None and limit < steps:
        return int(torch.randint(0, limit + 1, (), generator=generator))
    return 1 + int(torch.randint(0, steps, (), generator=generator))


def feed(model, rows: Sequence[Row], images: Sequence[Sequence[torch.Tensor]], limits: Sequence[Sequence[Optional[int]]],
         draw: Callable[[int, int, int], tuple], layout_mask=None) -> Batch:
    """`images[r][i]` the clean patches [k, patchSize] of row r's i-th image, `limits[r][i]` its
    step cap (None: none). `draw(r, i, limit)` gives that image's (step, ε [k, patchSize])."""
    c, process = model.config, model.process
    b, t, p = len(rows), len(rows[0]), c.patch_size
    tokens = torch.tensor([r.tokens for r in rows], dtype=torch.long)
    targets = torch.tensor([r.targets for r in rows], dtype=torch.long)
    kind = torch.tensor([r.kind for r in rows])
    image = torch.tensor([r.image for r in rows])
    document = torch.tensor([r.document for r in rows])
    patches = torch.zeros(b, t, p)
    noise = torch.zeros(b, t, p)
    time = torch.zeros(b, t, c.time_features)
    learned = torch.zeros(b, t)
    steps = []
    for r, row in enumerate(rows):
        for i, clean in enumerate(images[r]):
            start = next(q for q in range(t) if row.kind[q] == 1 and row.image[q] == i) + 1
            step, eps = draw(r, i, limits[r][i])
            steps.append(step)
            signal, spread = process.level(step)
            xt, target = process.training(clean, eps, signal, spread)
            k = clean.shape[0]
            patches[r, start:start + k] = xt
            noise[r, start:start + k] = target
            time[r, start:start + k] = timestep_features(step, c.time_features)
            learned[r, start:start + k] = 1.0 if step > 0 else 0.0
    cos, sin = rope_tables(torch.tensor([r.positions for r in rows]), c.head_dim)
    mask = mask_algebra.batch(layout_mask or mask_algebra.training_mask(model.mask), kind, image, document)
    inputs = Inputs(tokens, kind == PATCH, patches, time, cos, sin, mask)
    return Batch(inputs, targets, noise, learned, steps, (kind, image, document))
