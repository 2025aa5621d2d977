"""The Transfusion model (Sources/Transfusion/Model/TransfusionModel.swift) as an nn.Module: a
Llama-style transformer (pre-norm RMSNorm, RoPE attention, SwiGLU, no biases) over text tokens
and image patches, with a linear or U-Net patch encoder and decoder. Weights keep tfs's names and
layouts (matrices [in, out], used as x @ W), so a state_dict is a checkpoint's tensors."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention.flex_attention import flex_attention

from . import masks as mask_algebra
from .config import ModelConfig
from .diffusion import Process
from .params import put, tfs_name, torch_name
from .unet import UNet


@dataclass
class Inputs:
    """One block of positions: tokens [B, T] (PAD at patches), is_patch [B, T] bool, patches
    [B, T, patchSize] (x_t, 0 at text), time [B, T, F] (each image's timestep features at its
    patches), rope cos/sin [B, T, headDim], mask [B, T, S] bool (S = cached + T keys)."""
    tokens: torch.Tensor
    is_patch: torch.Tensor
    patches: torch.Tensor
    time: torch.Tensor
    cos: torch.Tensor
    sin: torch.Tensor
    mask: torch.Tensor
    # FlexAttention's block mask of the same rule (masks.block_mask): used instead of the dense
    # mask when given (no KV cache).
    block_mask: object = None


@dataclass
class Forward:
    hidden: torch.Tensor
    keys: List[torch.Tensor]
    values: List[torch.Tensor]
    unet: Optional[tuple] = None   # (patch positions [n, k], skips, time embedding)


def rms_norm(x, w, eps=1e-6):
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    """x [B, H, T, D] rotated pairwise (j, j + D/2) by tables [B, 1, T, D]."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


class Transfusion(nn.Module):
    def __init__(self, config: ModelConfig, mask=mask_algebra.CAUSAL_SAME_IMAGE, generator: Optional[torch.Generator] = None):
        super().__init__()
        self.config, self.mask = config, mask
        self.process = Process(config.schedule, config.objective)
        self.unet_graph = UNet(config) if config.encoder == "unet" else None
        self.names = []
        for name, shape, (how, value) in self.parameter_specs():
            p = put(self, name, shape)
            with torch.no_grad():
                if how == "fill":
                    p.fill_(value)
                else:
                    p.normal_(0, value, generator=generator)
            self.names.append(name)

    def parameter_specs(self):
        """(name, shape, ('std', σ) or ('fill', v)) of every weight, in tfs's order."""
        c = self.config
        d, p, h = c.dim, c.patch_size, c.hidden
        std = 1 / math.sqrt(d)
        out = [("embed.tokens", [c.vocabulary, d], ("std", 0.02)),
               ("embed.time1", [c.time_features, d], ("std", 1 / math.sqrt(c.time_features)))]
        if c.encoder == "linear":
            out += [("embed.time2", [d, p], ("std", std * 0.1)), ("embed.patches", [p, d], ("std", 1 / math.sqrt(p)))]
        deep = math.sqrt(2 * c.layers)
        for l in range(c.layers):
            out += [(f"block{l}.attn.{w}", [d, d], ("std", std)) for w in ("wq", "wk", "wv")]
            out += [(f"block{l}.attn.wo", [d, d], ("std", std / deep)), (f"block{l}.attn_norm", [d], ("fill", 1.0)),
                    (f"block{l}.mlp.gate", [d, h], ("std", std)), (f"block{l}.mlp.up", [d, h], ("std", std)),
                    (f"block{l}.mlp.down", [h, d], ("std", 1 / math.sqrt(h) / deep)), (f"block{l}.mlp_norm", [d], ("fill", 1.0))]
        out += [("final_norm", [d], ("fill", 1.0)), ("head.tokens", [d, c.vocabulary], ("std", std))]
        if c.encoder == "linear":
            out.append(("head.patches", [d, p], ("std", std)))
        else:
            out += UNet(c).make_parameters(self)
        return out

    def weights(self):
        """Every parameter by its tfs name."""
        return {tfs_name(n): p for n, p in self.named_parameters()}

    # The graph

    def forward(self, x: Inputs, cache: Optional[tuple] = None) -> Forward:
        """The transformer over a block of positions; with a cache (keys, values per layer
        [B, H, S, D]), the queries also see the cached positions (mask columns first)."""
        c, P = self.config, self.weights()
        tokens = P["embed.tokens"][x.tokens]
        encoding = None
        if c.encoder == "linear":
            time = F.silu(x.time @ P["embed.time1"]) @ P["embed.time2"]
            patches = (x.patches + time) @ P["embed.patches"]
        elif bool(x.is_patch.any()):
            patches, encoding = self._unet_embeddings(P, x)
        else:
            patches = tokens
        h = torch.where(x.is_patch.unsqueeze(-1), patches, tokens)
        cos, sin = x.cos.unsqueeze(1), x.sin.unsqueeze(1)
        mask = x.mask.unsqueeze(1)
        b, t, _ = h.shape
        keys, values = [], []
        for l in range(c.layers):
            n = rms_norm(h, P[f"block{l}.attn_norm"])

            def heads(w):
                return (n @ P[f"block{l}.attn.{w}"]).view(b, t, c.heads, c.head_dim).transpose(1, 2)
            q, k, v = rope(heads("wq"), cos, sin), rope(heads("wk"), cos, sin), heads("wv")
            keys.append(k)
            values.append(v)
            if cache is not None:
                k, v = torch.cat([cache[0][l], k], 2), torch.cat([cache[1][l], v], 2)
            if x.block_mask is not None and cache is None:
                o = flex_attention(q, k, v, block_mask=x.block_mask)
            else:
                o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            h = h + o.transpose(1, 2).reshape(b, t, c.dim) @ P[f"block{l}.attn.wo"]
            n = rms_norm(h, P[f"block{l}.mlp_norm"])
            h = h + (F.silu(n @ P[f"block{l}.mlp.gate"]) * (n @ P[f"block{l}.mlp.up"])) @ P[f"block{l}.mlp.down"]
        return Forward(rms_norm(h, P["final_norm"]), keys, values, encoding)

    def token_logits(self, hidden):
        return hidden @ self.get_parameter(torch_name("head.tokens"))

    def patch_prediction(self, f: Forward, x: Inputs):
        """The objective's prediction at every position [B, T, patchSize] (0 off patches for a U-Net)."""
        if self.unet_graph is None:
            return f.hidden @ self.get_parameter(torch_name("head.patches"))
        out = torch.zeros(x.patches.shape, dtype=f.hidden.dtype, device=f.hidden.device)
        if f.unet is None:
            return out
        P, (positions, skips, time) = self.weights(), f.unet
        b, t, d = f.hidden.shape
        grid = self.unet_graph.grid_image(f.hidden.reshape(b * t, d)[positions])
        pred = self.unet_graph.patches(self.unet_graph.decode(P, grid, skips, time))
        return out.reshape(b * t, -1).index_put((positions.reshape(-1),), pred).reshape(x.patches.shape)

    def _unet_embeddings(self, P, x: Inputs):
        c = self.config
        b, t = x.tokens.shape
        k = c.patches_per_image
        # An image's patches are consecutive positions of one row: k at a time, in raster order.
        positions = x.is_patch.reshape(-1).nonzero().squeeze(1).view(-1, k)
        patches = x.patches.reshape(b * t, -1)[positions]
        features = x.time.reshape(b * t, -1)[positions[:, 0]]
        grid, skips, time = self.unet_graph.encode(P, self.unet_graph.image(patches), features)
        out = torch.zeros(b * t, c.dim, dtype=grid.dtype, device=grid.device).index_put((positions.reshape(-1),), grid)
        return out.reshape(b, t, c.dim), (positions, skips, time)

    def losses(self, x: Inputs, targets, noise, learned, lm_weight=1.0, diffusion_weight=5.0, counts=None):
        """(total, lm, diffusion): L = lm·L_LM + diffusion·L_diffusion. targets [B, T] (−1: no
        LM loss), noise the objective's targets [B, T, patchSize], learned [B, T] (patches that
        take the diffusion loss). Each loss is a mean over its targets in these rows — or, with
        `counts` = (LM targets, patch values), a sum divided by those (a distributed run's
        share of the global batch's means)."""
        f = self.forward(x)
        logits = self.token_logits(f.hidden)
        kept = targets != -1
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1).clamp(min=0), reduction="none")
        w = learned.unsqueeze(-1).to(logits.dtype)
        lm_count, patch_count = counts or (kept.sum(), w.sum() * self.config.patch_size)
        lm = (nll * kept.reshape(-1)).sum() / max(lm_count, 1)
        error = (self.patch_prediction(f, x) - noise) * w
        diffusion = error.square().sum() / max(patch_count, 1)
        return lm_weight * lm + diffusion_weight * diffusion, lm, diffusion
