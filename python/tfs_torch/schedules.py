"""Learning-rate schedules (Sources/Transfusion/Training/LRSchedule.swift), as the JSON a run file
holds: {"constant": r}, {"warmup": n}, {"cosine": {"peak": p, "floor": f}},
{"linear": {"peak": p, "floor": f}}, {"then": [A, B]}."""
from __future__ import annotations

import math


def rate(schedule, step: int, total: int) -> float:
    """The rate at `step` (0-based) of a run of `total` steps."""
    (kind, body), = schedule.items()
    if kind == "constant":
        return float(body)
    if kind == "warmup":
        return 0.0
    if kind in ("cosine", "linear"):
        peak, floor = body["peak"], body["floor"]
        u = min(1.0, step / max(total - 1, 1))
        if kind == "cosine":
            return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * u)))
        return peak * (1 - (1 - floor) * u)
    if kind == "then":
        a, b = body
        if "warmup" in a:
            n = a["warmup"]
            if step < n:
                return rate(b, 0, max(total - n, 1)) * (step + 1) / n
            return rate(b, step - n, max(total - n, 1))
        half = total // 2
        return rate(a, step, half) if step < half else rate(b, step - half, total - half)
    raise ValueError(f"unknown learning-rate schedule {kind!r}")
