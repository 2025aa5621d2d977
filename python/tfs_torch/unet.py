"""The U-Net patch encoder/decoder (Sources/Transfusion/Model/UNet.swift): down blocks on each
whole image before the transformer, up blocks with skips after it. Level i works at side/2^i
with dim/2^(L−i) channels (L = log2 patch side)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .params import put


class UNet:
    """The U-Net's graph over a model's parameters (which live on the model, under `unet.`)."""

    def __init__(self, c: ModelConfig):
        self.dim, self.channels, self.side, self.patch = c.dim, c.channels, c.image_side, c.patch_side
        self.levels = self.patch.bit_length() - 1
        self.grid = self.side // self.patch

    def width(self, level: int) -> int:
        return self.dim >> (self.levels - level)

    def make_parameters(self, root: nn.Module) -> list:
        """(name, shape, std or fill) in tfs's order of creation."""
        specs = []

        def conv(name, out, inp, k):
            specs.append((name, [out, inp, k, k], ("std", 1 / math.sqrt(inp * k * k))))

        def norm(name, c):
            specs.append((name + ".weight", [c], ("fill", 1.0)))
            specs.append((name + ".bias", [c], ("fill", 0.0)))

        def res(name, inp, out):
            norm(name + ".norm1", inp)
            conv(name + ".conv1", out, inp, 3)
            specs.append((name + ".time_scale", [self.dim, out], ("std", 1 / math.sqrt(self.dim))))
            specs.append((name + ".time_shift", [self.dim, out], ("std", 1 / math.sqrt(self.dim))))
            norm(name + ".norm2", out)
            conv(name + ".conv2", out, out, 3)
            if inp != out:
                conv(name + ".skip", out, inp, 1)

        conv("unet.stem", self.width(0), self.channels, 3)
        for i in range(self.levels + 1):
            res(f"unet.down{i}", self.width(i), self.width(i))
            if i < self.levels:
                conv(f"unet.down{i}.downsample", self.width(i + 1), self.width(i), 3)
        for i in reversed(range(self.levels + 1)):
            if i < self.levels:
                conv(f"unet.up{i}.upsample", self.width(i), self.width(i + 1), 3)
            res(f"unet.up{i}", 2 * self.width(i), self.width(i))
        norm("unet.out.norm", self.width(0))
        conv("unet.out", self.channels, self.width(0), 3)
        return specs

    @staticmethod
    def _norm(P, name, x):
        return F.group_norm(x, math.gcd(x.shape[1], 8), P[name + ".weight"], P[name + ".bias"], eps=1e-5)

    def _res(self, P, name, x, time):
        h = F.conv2d(F.silu(self._norm(P, name + ".norm1", x)), P[name + ".conv1"], padding=1)
        scale, shift = (time @ P[name + w] for w in (".time_scale", ".time_shift"))
        h = self._norm(P, name + ".norm2", h) * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        h = F.conv2d(F.silu(h), P[name + ".conv2"], padding=1)
        skip = F.conv2d(x, P[name + ".skip"]) if name + ".skip" in P else x
        return h + skip

    def encode(self, P, images, features):
        """Down path over images [n, C, side, side] at timestep features [n, F]: the patch grid's
        vectors [n·k, dim], the skips and the time embedding."""
        time = F.silu(features @ P["embed.time1"])
        h = F.conv2d(images, P["unet.stem"], padding=1)
        skips = []
        for i in range(self.levels + 1):
            h = self._res(P, f"unet.down{i}", h, time)
            skips.append(h)
            if i < self.levels:
                h = F.conv2d(h, P[f"unet.down{i}.downsample"], stride=2, padding=1)
        n = images.shape[0]
        return h.permute(0, 2, 3, 1).reshape(n * self.grid * self.grid, self.dim), skips, time

    def decode(self, P, grid, skips, time):
        u = grid
        for i in reversed(range(self.levels + 1)):
            if i < self.levels:
                u = F.conv2d(F.interpolate(u, scale_factor=2, mode="nearest"), P[f"unet.up{i}.upsample"], padding=1)
            u = self._res(P, f"unet.up{i}", torch.cat([u, skips[i]], 1), time)
        return F.conv2d(F.silu(self._norm(P, "unet.out.norm", u)), P["unet.out"], padding=1)

    def image(self, patches):
        """Patches [n, k, p·p·C] (raster order, row by row then channel) as images [n, C, side, side]."""
        n, g, p, c = patches.shape[0], self.grid, self.patch, self.channels
        return patches.reshape(n, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, self.side, self.side)

    def patches(self, images):
        """Images [n, C, side, side] as patches [n·k, p·p·C]."""
        n, g, p, c = images.shape[0], self.grid, self.patch, self.channels
        return images.reshape(n, c, g, p, g, p).permute(0, 2, 4, 3, 5, 1).reshape(n * g * g, p * p * c)

    def grid_image(self, vectors):
        """Per-patch vectors [n, k, dim] as feature maps [n, dim, g, g]."""
        return vectors.reshape(vectors.shape[0], self.grid, self.grid, self.dim).permute(0, 3, 1, 2)
