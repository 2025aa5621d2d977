"""The small convolutional VAE tfs trains (Sources/Transfusion/Model/VAE.swift, Latents.swift):
a latent model's images are its scaled latent means. `load_vae(path)` reads a `tfs-vae-1` file;
`encode` turns pixels [n, side, side, 3] in [0, 1] into scaled latents [n, side/f, side/f, C] and
`decode` turns them back into pixels in [0, 1]."""
from __future__ import annotations

import json
import math
import struct

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import read_header
from .errors import CheckpointError
from .params import put, tfs_name

FIELDS = {"channels", "factor", "width", "beta", "imageChannels"}


class VAE(nn.Module):
    def __init__(self, channels=4, factor=2, width=32, image_channels=3, scale=1.0):
        super().__init__()
        self.channels, self.factor, self.width, self.image_channels, self.scale = channels, factor, width, image_channels, scale
        self.levels = factor.bit_length() - 1
        for name, shape in self.specs():
            put(self, name, shape)

    def specs(self):
        w = lambda i: self.width << i  # noqa: E731
        out = []

        def conv(name, o, i):
            out.append((name, [o, i, 3, 3]))

        def norm(name, c):
            out.extend([(name + ".weight", [c]), (name + ".bias", [c])])

        def res(name, c):
            norm(name + ".norm1", c); conv(name + ".conv1", c, c)
            norm(name + ".norm2", c); conv(name + ".conv2", c, c)
        conv("vae.encoder.stem", w(0), self.image_channels)
        for i in range(self.levels):
            res(f"vae.encoder.down{i}", w(i))
            conv(f"vae.encoder.down{i}.downsample", w(i + 1), w(i))
        res("vae.encoder.mid", w(self.levels))
        norm("vae.encoder.out.norm", w(self.levels))
        conv("vae.encoder.out", 2 * self.channels, w(self.levels))
        out.append(("vae.encoder.out.bias", [2 * self.channels]))
        conv("vae.decoder.in", w(self.levels), self.channels)
        res("vae.decoder.mid", w(self.levels))
        for i in reversed(range(self.levels)):
            conv(f"vae.decoder.up{i}.upsample", w(i), w(i + 1))
            res(f"vae.decoder.up{i}", w(i))
        norm("vae.decoder.out.norm", w(0))
        conv("vae.decoder.out", self.image_channels, w(0))
        out.append(("vae.decoder.out.bias", [self.image_channels]))
        return out

    def weights(self):
        return {tfs_name(n): p for n, p in self.named_parameters()}

    def _norm(self, P, name, x):
        return F.group_norm(x, math.gcd(x.shape[1], 8), P[name + ".weight"], P[name + ".bias"], eps=1e-5)

    def _res(self, P, name, x):
        h = F.conv2d(F.silu(self._norm(P, name + ".norm1", x)), P[name + ".conv1"], padding=1)
        return F.conv2d(F.silu(self._norm(P, name + ".norm2", h)), P[name + ".conv2"], padding=1) + x

    def encoder(self, images):
        """Means and log-variances [n, C, s/f, s/f] of images [n, 3, s, s] in [−1, 1]."""
        P = self.weights()
        h = F.conv2d(images, P["vae.encoder.stem"], padding=1)
        for i in range(self.levels):
            h = self._res(P, f"vae.encoder.down{i}", h)
            h = F.conv2d(h, P[f"vae.encoder.down{i}.downsample"], stride=2, padding=1)
        h = self._res(P, "vae.encoder.mid", h)
        h = F.conv2d(F.silu(self._norm(P, "vae.encoder.out.norm", h)), P["vae.encoder.out"], padding=1)
        h = h + P["vae.encoder.out.bias"][None, :, None, None]
        return h[:, :self.channels], h[:, self.channels:]

    def decoder(self, latents):
        P = self.weights()
        h = self._res(P, "vae.decoder.mid", F.conv2d(latents, P["vae.decoder.in"], padding=1))
        for i in reversed(range(self.levels)):
            h = F.conv2d(F.interpolate(h, scale_factor=2, mode="nearest"), P[f"vae.decoder.up{i}.upsample"], padding=1)
            h = self._res(P, f"vae.decoder.up{i}", h)
        h = F.conv2d(F.silu(self._norm(P, "vae.decoder.out.norm", h)), P["vae.decoder.out"], padding=1)
        return h + P["vae.decoder.out.bias"][None, :, None, None]

    @torch.no_grad()
    def encode(self, pixels):
        """Scaled latent means [n, s/f, s/f, C] of pixels [n, s, s, 3] in [0, 1]."""
        mean, _ = self.encoder((pixels * 2 - 1).permute(0, 3, 1, 2))
        return mean.permute(0, 2, 3, 1) * self.scale

    @torch.no_grad()
    def decode(self, latents):
        """Pixels [n, s, s, 3] in [0, 1] from scaled latents [n, s/f, s/f, C]."""
        images = self.decoder((latents / self.scale).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return ((images + 1) / 2).clamp(0, 1)


def load_vae(path: str) -> VAE:
    """A VAE tfs saved (vae.save, train_vae(checkpoint=)), checked before it is made."""
    meta = read_header(path).get("__metadata__") or {}
    if meta.get("format") != "tfs-vae-1":
        raise CheckpointError(f"{path} is not a tfs VAE (its format metadata is {meta.get('format')!r}, not 'tfs-vae-1')")
    try:
        config = json.loads(meta["config"])
        bits = int(meta["scale"])
    except (KeyError, ValueError, TypeError):
        raise CheckpointError(f"{path}: the VAE's config or scale metadata is missing or unreadable") from None
    unknown = sorted(set(config) - FIELDS)
    if unknown:
        raise CheckpointError(f"{path}: the VAE config has the field '{unknown[0]}', which this reader does not know")
    factor, channels, width = config.get("factor", 2), config.get("channels", 4), config.get("width", 32)
    image_channels = config.get("imageChannels", 3)
    if factor not in (2, 4, 8) or not 1 <= channels <= 1024 or not 1 <= width <= 256 or not 1 <= image_channels <= 64:
        raise CheckpointError(f"{path}: the VAE config {config} is out of range (factor 2, 4 or 8, width 1…256, channels 1…1024)")
    vae = VAE(channels, factor, width, image_channels, struct.unpack("<f", struct.pack("<I", bits))[0])
    from safetensors.torch import load_file
    tensors = load_file(path)
    with torch.no_grad():
        for name, p in vae.weights().items():
            if name not in tensors or list(tensors[name].shape) != list(p.shape):
                raise CheckpointError(f"{path}: tensor '{name}' is missing or not {list(p.shape)}")
            p.copy_(tensors[name])
    return vae
