"""AdamW as tfs runs it (Sources/TensorGraph/Optim/Optimizer.swift): β = (0.9, 0.95), ε = 1e-8,
weight decay 0.1 on parameters of rank ≥ 2 only, the global gradient norm clipped to `clip`
(scale = clip / norm when norm > clip), nothing applied when the norm is not finite. Moments are
kept by tfs name, so they go to and from checkpoints as optimizer.m.NAME / optimizer.v.NAME."""
from __future__ import annotations

import math
from typing import Dict, Optional

import torch


class AdamW:
    def __init__(self, named_parameters, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, clip: Optional[float] = 1.0):
        self.params = dict(named_parameters)
        self.beta1, self.beta2, self.eps, self.weight_decay, self.clip = beta1, beta2, eps, weight_decay, clip
        self.m = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.v = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.steps = 0

    def gradient_norm(self) -> float:
        total = 0.0
        for p in self.params.values():
            if p.grad is not None:
                total += float(p.grad.double().square().sum())
        return math.sqrt(total)

    @torch.no_grad()
    def step(self, lr: float) -> float:
        """One update from the parameters' .grad; returns the gradient norm before clipping."""
        norm = self.gradient_norm()
        if not math.isfinite(norm):
            return norm
        scale = self.clip / norm if self.clip is not None and norm > self.clip else 1.0
        self.steps += 1
        c1, c2 = 1 - self.beta1 ** self.steps, 1 - self.beta2 ** self.steps
        for name, p in self.params.items():
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            g = g * scale
            m, v = self.m[name], self.v[name]
            m.mul_(self.beta1).add_(g, alpha=1 - self.beta1)
            v.mul_(self.beta2).add_(g * g, alpha=1 - self.beta2)
            decay = 1 - lr * self.weight_decay if p.dim() >= 2 else 1.0
            p.mul_(decay).sub_(lr * (m / c1) / ((v / c2).sqrt() + self.eps))
        return norm

    def moments(self) -> Dict[str, dict]:
        return {n: {"m": self.m[n], "v": self.v[n]} for n in self.params}

    def restore(self, tensors: Dict[str, torch.Tensor], steps: int):
        """Moments from a checkpoint's optimizer.m.NAME / optimizer.v.NAME tensors."""
        for n in self.params:
            for key, store in (("m", self.m), ("v", self.v)):
                t = tensors.get(f"optimizer.{key}.{n}")
                if t is None:
                    raise KeyError(f"the checkpoint has no tensor 'optimizer.{key}.{n}'")
                store[n].copy_(t)
        self.steps = steps
