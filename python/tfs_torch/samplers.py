"""Diffusion samplers (Sources/Transfusion/Generation/DiffusionSampler.swift): DDPM (DDIM with
η = 1), DDIM with η, Euler and midpoint for flow models, over k evenly spaced steps from T to 0.
`denoise(x, t)` is the model's prediction in its objective's units."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch


@dataclass
class Sampler:
    kind: str = "ddim"        # ddpm, ddim, euler, midpoint
    steps: int = 50
    eta: float = 0.0

    def validate(self, process):
        if not 1 <= self.steps <= process.steps:
            raise ValueError(f"{self.kind}({self.steps}) needs between 1 and {process.steps} steps (the trained T)")
        flow = process.objective == "flow"
        if flow and (self.kind == "ddpm" or (self.kind == "ddim" and self.eta != 0)):
            raise ValueError(f"{self.kind} with noise needs a model trained with eps or v prediction; this one is flow matching")
        if not flow and self.kind == "midpoint":
            raise ValueError("midpoint integrates a flow-matching model (use ddpm or ddim)")

    def timesteps(self, T: int):
        k = self.steps
        return [(T * (k - i) + k // 2) // k for i in range(k + 1)]

    def run(self, x: torch.Tensor, process, denoise: Callable, clip: bool = True,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Denoises x (pure noise on entry); clip keeps x₀ estimates in [−1, 1] (pixels)."""
        self.validate(process)
        ts = self.timesteps(process.steps)
        eta = {"ddpm": 1.0, "euler": 0.0}.get(self.kind, self.eta)
        for t, nxt in zip(ts, ts[1:]):
            if self.kind == "midpoint":
                ds = (nxt - t) / process.steps
                u1 = denoise(x, float(t))
                u2 = denoise(x + ds / 2 * u1, (t + nxt) / 2)
                x = x + ds * u2
            else:
                x = ancestral(x, float(t), float(nxt), eta, process, clip, denoise, generator)
        return x


def ancestral(x, t, nxt, eta, process, clip, denoise, generator):
    """One DDIM step: x' = signal'·x₀ + √(noise'² − σ²)·ε + σ·z, σ = η·√((1−ᾱ')/(1−ᾱ))·√(1 − ᾱ/ᾱ')."""
    prediction = denoise(x, t)
    (s, n), (s2, n2) = process.level(t), process.level(nxt)
    a, a2 = s * s, s2 * s2
    sigma = 0.0 if eta == 0 else eta * math.sqrt((1 - a2) / (1 - a)) * math.sqrt(max(0.0, 1 - a / a2))
    keep = math.sqrt(max(0.0, n2 * n2 - sigma * sigma))
    f = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731 (tfs computes in float32)
    x0, eps = process.decode(x, prediction, f(s), f(n))
    if clip:
        outside = (x0 < -1) | (x0 > 1)
        clipped = x0.clamp(-1, 1)
        if n > 0:
            eps = torch.where(outside, (x - f(s) * clipped) / f(n), eps)
        x0 = clipped
    out = f(s2) * x0 + f(keep) * eps
    if sigma > 0:
        out = out + f(sigma) * torch.randn(x.shape, generator=generator)
    return out
