"""tfs's attention masks (Sources/Transfusion/Masks) read from their JSON encoding and evaluated
for a sequence's layout as dense boolean matrices (docs/architecture.md, "The mask encoding").

A layout is three integer tensors of one sequence: `kind` (KINDS' indices), `image` (−1 off
images) and `document`. `evaluate(mask, layout)` gives allowed[q, k].
"""
from __future__ import annotations

import json
from typing import Any, List, Tuple

import torch

from .errors import CheckpointError

KINDS = ("text", "boi", "patch", "eoi", "pad")
PATCH = KINDS.index("patch")
MAX_DEPTH, MAX_SIZE = 100, 1 << 24
_LEAVES = ("bidirectional", "nothing", "causal", "same_image", "same_document")

Mask = Tuple  # ("causal",), ("window", n), ("and", [parts]), ("not", m), ...


def parse(text: str) -> Mask:
    """The mask a checkpoint's `mask` metadata holds (its JSON encoding)."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError) as e:
        if isinstance(text, str) and not text.lstrip().startswith("{"):
            raise CheckpointError(f"the checkpoint's mask is the text {text[:60]!r}; only the JSON encoding is read "
                                  "(load and save it once with a current tfs)") from None
        raise CheckpointError(f"the checkpoint's mask is not JSON ({e})") from None
    return _parse(value, 1)


def _parse(value: Any, depth: int) -> Mask:
    if depth > MAX_DEPTH:
        raise CheckpointError(f"mask JSON nested too deeply (limit {MAX_DEPTH})")
    if not isinstance(value, dict) or len(value) != 1:
        raise CheckpointError(f"mask JSON: each mask must be an object with one key (its kind), got {str(value)[:60]}")
    (kind, body), = value.items()

    def fields(names):
        if not isinstance(body, dict) or set(body) != set(names):
            raise CheckpointError(f"mask JSON: \"{kind}\" takes an object with {'exactly ' + ', '.join(sorted(names)) if names else 'no fields'}, got {str(body)[:60]}")
        return body

    def size(f):
        n = f["n"]
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SIZE:
            raise CheckpointError(f"mask JSON: \"{kind}\"'s n must be an integer from 1 to {MAX_SIZE}, got {n!r}")
        return n

    if kind in _LEAVES:
        fields(())
        return (kind,)
    if kind in ("prefix", "window"):
        return (kind, size(fields(("n",))))
    if kind == "document":
        ids = fields(("ids",))["ids"]
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise CheckpointError("mask JSON: \"document\"'s ids must be a list of integers")
        return (kind, list(ids))
    if kind == "modality":
        f = fields(("query", "key"))
        for side in ("query", "key"):
            if f[side] not in ("text", "image"):
                raise CheckpointError(f"mask JSON: \"modality\"'s {side} must be \"text\" or \"image\", got {f[side]!r}")
        return (kind, f["query"], f["key"])
    if kind in ("and", "or"):
        if not isinstance(body, list) or len(body) < 2:
            raise CheckpointError(f"mask JSON: \"{kind}\" takes a list of at least two masks, got {str(body)[:60]}")
        return (kind, [_parse(part, depth + 1) for part in body])
    if kind == "not":
        return (kind, _parse(body, depth + 1))
    raise CheckpointError(f"mask JSON: unknown kind \"{kind}\" (kinds: bidirectional, nothing, causal, same_image, "
                          "same_document, prefix, window, document, modality, and, or, not)")


def to_json(mask: Mask) -> str:
    """The JSON text tfs writes for a mask (two-part and/or, keys sorted)."""
    return json.dumps(_to_object(mask), sort_keys=True, separators=(",", ":"))


def _to_object(m: Mask):
    kind = m[0]
    if kind in _LEAVES:
        return {kind: {}}
    if kind in ("prefix", "window"):
        return {kind: {"n": m[1]}}
    if kind == "document":
        return {kind: {"ids": m[1]}}
    if kind == "modality":
        return {kind: {"key": m[2], "query": m[1]}}
    if kind == "not":
        return {kind: _to_object(m[1])}
    parts = [_to_object(p) for p in m[1]]
    folded = parts[0]
    for p in parts[1:]:
        folded = {kind: [folded, p]}
    return folded


def evaluate(mask: Mask, kind: torch.Tensor, image: torch.Tensor, document: torch.Tensor) -> torch.Tensor:
    """allowed[q, k] for one sequence's layout (kind, image, document: [T] integer tensors)."""
    t = kind.shape[0]
    q = torch.arange(t).unsqueeze(1)
    k = torch.arange(t).unsqueeze(0)
    op = mask[0]
    if op == "bidirectional":
        return torch.ones(t, t, dtype=torch.bool)
    if op == "nothing":
        return torch.zeros(t, t, dtype=torch.bool)
    if op == "causal":
        return k <= q
    if op == "same_image":
        patch = kind == PATCH
        return patch.unsqueeze(1) & patch.unsqueeze(0) & (image.unsqueeze(1) == image.unsqueeze(0))
    if op == "same_document":
        return document.unsqueeze(1) == document.unsqueeze(0)
    if op == "prefix":
        return (k < mask[1]).expand(t, t)
    if op == "window":
        return (q - k).abs() < mask[1]
    if op == "document":
        ids = mask[1]
        n = min(len(ids), t)
        out = torch.zeros(t, t, dtype=torch.bool)
        if n:
            v = torch.tensor(ids[:n])
            out[:n, :n] = v.unsqueeze(1) == v.unsqueeze(0)
        return out
    if op == "modality":
        side = torch.where(kind == PATCH, 1, 0)
        want = {"text": 0, "image": 1}
        return (side == want[mask[1]]).unsqueeze(1) & (side == want[mask[2]]).unsqueeze(0)
    if op == "not":
        return ~evaluate(mask[1], kind, image, document)
    parts = [evaluate(p, kind, image, document) for p in mask[1]]
    out = parts[0]
    for p in parts[1:]:
        out = out & p if op == "and" else out | p
    return out


def training_mask(mask: Mask) -> Mask:
    """The mask a packed training row uses: the model's, within each example."""
    return ("and", [mask, ("same_document",)])


def batch(mask: Mask, kind: torch.Tensor, image: torch.Tensor, document: torch.Tensor) -> torch.Tensor:
    """allowed [B, T, T] for rows' layouts [B, T]."""
    return torch.stack([evaluate(mask, kind[r], image[r], document[r]) for r in range(kind.shape[0])])


CAUSAL_SAME_IMAGE: Mask = ("or", [("causal",), ("same_image",)])


def mask_mod(mask: Mask, kind: torch.Tensor, image: torch.Tensor, document: torch.Tensor):
    """The mask as FlexAttention's mask_mod(b, h, q, k) over rows' layouts [B, T]: the same rule
    as `evaluate`, written with index tensors so `create_block_mask` can find the empty tiles."""
    op = mask[0]
    if op == "bidirectional":
        return lambda b, h, q, k: q >= 0
    if op == "nothing":
        return lambda b, h, q, k: q < 0
    if op == "causal":
        return lambda b, h, q, k: k <= q
    if op == "same_image":
        return lambda b, h, q, k: (kind[b, q] == PATCH) & (kind[b, k] == PATCH) & (image[b, q] == image[b, k])
    if op == "same_document":
        return lambda b, h, q, k: document[b, q] == document[b, k]
    if op == "prefix":
        n = mask[1]
        return lambda b, h, q, k: k < n
    if op == "window":
        n = mask[1]
        return lambda b, h, q, k: (q - k).abs() < n
    if op == "document":
        ids = torch.tensor(mask[1] or [0], device=kind.device)
        n = len(mask[1])
        return lambda b, h, q, k: (q < n) & (k < n) & (ids[q.clamp(max=max(n - 1, 0))] == ids[k.clamp(max=max(n - 1, 0))])
    if op == "modality":
        want_q, want_k = mask[1] == "image", mask[2] == "image"
        return lambda b, h, q, k: ((kind[b, q] == PATCH) == want_q) & ((kind[b, k] == PATCH) == want_k)
    if op == "not":
        inner = mask_mod(mask[1], kind, image, document)
        return lambda b, h, q, k: ~inner(b, h, q, k)
    parts = [mask_mod(p, kind, image, document) for p in mask[1]]
    if op == "and":
        def both(b, h, q, k):
            out = parts[0](b, h, q, k)
            for p in parts[1:]:
                out = out & p(b, h, q, k)
            return out
        return both

    def either(b, h, q, k):
        out = parts[0](b, h, q, k)
        for p in parts[1:]:
            out = out | p(b, h, q, k)
        return out
    return either


def block_mask(mask: Mask, kind: torch.Tensor, image: torch.Tensor, document: torch.Tensor, device=None):
    """FlexAttention's block mask of rows' layouts [B, T] (tiles of 128 × 128 by default)."""
    from torch.nn.attention.flex_attention import create_block_mask
    b, t = kind.shape
    kind, image, document = (x.to(device or kind.device) for x in (kind, image, document))
    return create_block_mask(mask_mod(mask, kind, image, document), b, None, t, t, device=str(kind.device))
