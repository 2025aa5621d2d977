"""Noise schedules, timestep features and the ε / v / flow objectives
(Sources/Transfusion/Diffusion): x_t = signal·x₀ + noise·ε."""
from __future__ import annotations

import math
from typing import Tuple

import torch

from .config import Schedule


def alpha_bars(schedule: Schedule) -> torch.Tensor:
    """ᾱ(t) for t = 0…T in float64 (ᾱ(0) = 1)."""
    n = schedule.steps
    if schedule.kind == "table":
        return torch.tensor([1.0] + [min(max(v, 1e-5), 1.0) for v in schedule.table], dtype=torch.float64)
    if schedule.kind == "cosine":
        s = schedule.offset

        def f(u):
            c = math.cos((u / n + s) / (1 + s) * math.pi / 2)
            return c * c
        f0 = f(0.0)
        return torch.tensor([min(max(f(float(t)) / f0, 1e-5), 1.0) for t in range(n + 1)], dtype=torch.float64)
    out = [1.0]
    for i in range(1, n + 1):
        beta = min(1000 / n * (1e-4 + (0.02 - 1e-4) * (i - 1) / max(n - 1, 1)), 0.999)
        out.append(out[-1] * (1 - beta))
    return torch.tensor(out, dtype=torch.float64)


class Process:
    """One model's forward process: its schedule and objective."""

    def __init__(self, schedule: Schedule, objective: str):
        self.schedule, self.objective, self.steps = schedule, objective, schedule.steps
        self.alpha_bars = None if objective == "flow" else alpha_bars(schedule)

    def level(self, t: float) -> Tuple[float, float]:
        """(signal, noise) at step t (0 = clean, T = most noise)."""
        if self.objective == "flow":
            s = t / self.steps
            return 1 - s, s
        a = float(self.alpha_bars[min(max(int(math.floor(t + 0.5)), 0), self.steps)])
        return math.sqrt(a), math.sqrt(1 - a)

    def training(self, x0: torch.Tensor, eps: torch.Tensor, signal: float, noise: float):
        """x_t and the training target (float32 arithmetic as tfs does it)."""
        s, n = torch.tensor(signal, dtype=torch.float32), torch.tensor(noise, dtype=torch.float32)
        xt = s * x0 + n * eps
        if self.objective == "eps":
            return xt, eps
        if self.objective == "v":
            return xt, s * eps - n * x0
        return xt, eps - x0

    def decode(self, xt, prediction, signal: float, noise: float):
        """A prediction at x_t read back as (x₀, ε)."""
        if self.objective == "eps":
            return (xt - noise * prediction) / max(signal, torch.tensor(1e-6, dtype=torch.float32)), prediction
        if self.objective == "v":
            return signal * xt - noise * prediction, noise * xt + signal * prediction
        return xt - noise * prediction, xt + signal * prediction


def timestep_features(t: float, dim: int, max_period: float = 10_000) -> torch.Tensor:
    """Sinusoidal features of a step: cos then sin, `dim` float32 values (computed in float64)."""
    half = dim // 2
    out = torch.zeros(dim, dtype=torch.float64)
    i = torch.arange(half, dtype=torch.float64)
    freq = torch.exp(-math.log(max_period) * i / max(half, 1))
    out[:half] = torch.cos(t * freq)
    out[half:2 * half] = torch.sin(t * freq)
    return out.float()


def rope_tables(positions: torch.Tensor, head_dim: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """RoPE cos and sin tables [..., head_dim] for integer positions (each angle in float64)."""
    half = head_dim // 2
    j = torch.arange(half, dtype=torch.float64)
    angle = positions.to(torch.float64).unsqueeze(-1) * torch.pow(10_000.0, -j / half)
    c, s = torch.cos(angle).float(), torch.sin(angle).float()
    return torch.cat([c, c], -1), torch.cat([s, s], -1)
