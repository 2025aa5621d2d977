"""The training recipe of tfs (Sources/Transfusion/Data/ExamplePolicy.swift, Training/Trainer.swift):
each item of a step's batch becomes one example packed alone into a row — a text; or a captioned
image, first (captioning, its step capped at `caption_noise`) with probability `image_first`,
otherwise after its caption, which is dropped with probability `cfg_dropout` (for classifier-free
guidance). Draws use one torch generator, so every process of a distributed run draws the same
global batch and takes its own rows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from .feeder import Batch, draw_step, feed
from .packing import Packer
from .tokenizer import Tokenizer


@dataclass
class Policy:
    # tfs's default recipe ('both'); the paper's is image_first=0.2, caption_noise=500.
    image_first: float = 0.5
    caption_noise: Optional[int] = 200
    cfg_dropout: float = 0.1


def patchify(pixels: torch.Tensor, patch: int, scaled: bool) -> torch.Tensor:
    """An image [side, side, C] (channels last) as patches [k, p·p·C] in raster order, each row by
    row then channel; pixels in [0, 1] are scaled to [−1, 1], latents are kept as they are."""
    side, _, c = pixels.shape
    g = side // patch
    out = pixels.reshape(g, patch, g, patch, c).permute(0, 2, 1, 3, 4).reshape(g * g, patch * patch * c)
    return out * 2 - 1 if scaled else out


def unpatchify(patches: torch.Tensor, side: int, patch: int, channels: int, scaled: bool) -> torch.Tensor:
    g = side // patch
    out = patches.reshape(g, g, patch, patch, channels).permute(0, 2, 1, 3, 4).reshape(side, side, channels)
    return ((out + 1) / 2).clamp(0, 1) if scaled else out


def draw_batch(model, data, count: int, length: int, policy: Policy, g: torch.Generator) -> Batch:
    """`count` examples drawn from `data`, packed one to a row, fed (steps and noise drawn)."""
    c = model.config
    packer = Packer(length, Tokenizer(c.merges))
    rows, images, limits = [], [], []
    for _ in range(count):
        item = data.draw(g)
        if item[0] == "text":
            rows += packer.pack([[("text", item[1])]])
            images.append([])
            limits.append([])
            continue
        _, pixels, caption = item
        patches = patchify(pixels, c.patch_side, not c.latent)
        k = patches.shape[0]
        if float(torch.rand((), generator=g)) < policy.image_first:
            segments, limit = [("image", k), ("text", caption)], policy.caption_noise
        else:
            dropped = float(torch.rand((), generator=g)) < policy.cfg_dropout
            segments, limit = [("text", "" if dropped else caption), ("image", k)], None
        rows += packer.pack([segments])
        images.append([patches])
        limits.append([limit])

    def draw(r, i, limit):
        step = draw_step(limit, model.process.steps, g)
        return step, torch.randn(images[r][i].shape, generator=g)
    return feed(model, rows, images, limits, draw)
