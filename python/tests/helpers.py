"""What the tests share: the tfs binary, its reference numbers, and the bridge's own
recomputation of a reference batch from the examples alone."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import torch
from safetensors import safe_open

import tfs_torch
from tfs_torch import masks
from tfs_torch.feeder import feed
from tfs_torch.packing import Packer
from tfs_torch.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parents[2]


def tfs_binary() -> str:
    path = os.environ.get("TFS_BIN", str(ROOT / ".build" / "release" / "tfs"))
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"the tfs binary {path} is missing: build it first (swift build -c release) or set TFS_BIN")
    return path


def run_tfs(*args, cwd=None, timeout=600) -> str:
    """tfs's standard output and then its standard error (progress notes)."""
    done = subprocess.run([tfs_binary(), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"tfs {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def reference(tmp: Path, name: str, config: dict = None, mask: str = None, load: str = None, **options):
    """Runs `tfs reference` and reads what it wrote: (tensors, metadata, checkpoint path)."""
    out, ckpt = tmp / f"{name}.ref.safetensors", tmp / f"{name}.safetensors"
    args = ["reference", "-o", out]
    if load:
        args += ["--load", load]
    else:
        args += ["--config", json.dumps(config), "--checkpoint", ckpt]
    if mask:
        args += ["--mask", mask]
    for k, v in options.items():
        args += ["--" + k.replace("_", "-"), v]
    run_tfs(*args)
    with safe_open(str(out), "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata()
    return tensors, meta, (load or str(ckpt))


def examples_and_images(ref, meta, config):
    """The examples as the bridge's segments, and each image's clean patches [k, patchSize]."""
    k, p = config.patches_per_image, config.patch_size
    examples = [[("text", s["text"]) if "text" in s else ("image", k) for s in ex] for ex in json.loads(meta["examples"])]
    ids = [[s["image"] for s in ex if "image" in s] for ex in json.loads(meta["examples"])]
    clean = ref["image.clean"].view(-1, k, p) if "image.clean" in ref else None
    limits = [int(x) for x in ref["image.limit"]] if "image.limit" in ref else []
    return examples, ids, clean, limits


def replay_batch(model, ref, meta, length):
    """The step's batch recomputed by the bridge from the examples, with tfs's draws of (t, ε)."""
    c = model.config
    examples, ids, clean, limits = examples_and_images(ref, meta, c)
    rows = Packer(length, Tokenizer(c.merges)).pack(examples)
    images = [[clean[ids[e][i]] for e, i in row.images] for row in rows]
    caps = [[None if limits[ids[e][i]] >= 1 << 24 else limits[ids[e][i]] for e, i in row.images] for row in rows]
    order = [ids[e][i] for row in rows for e, i in row.images]
    drawn = iter(range(len(order)))

    def draw(r, i, limit):
        j = next(drawn)
        return int(ref["image.step"][j]), ref["image.noise"][j].view(c.patches_per_image, c.patch_size)
    return rows, order, feed(model, rows, images, caps, draw)


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a − b| / max |b| (0 when both are 0)."""
    a, b = a.double(), b.double()
    scale = b.abs().max()
    diff = (a - b).abs().max()
    return float(diff / scale) if scale > 0 else float(diff)


def check_batch(model, ref, rows, order, batch):
    """The bridge's packed rows and step inputs against tfs's: exact where they are integers or
    masks, ≤ 1e-6 where they are computed floats."""
    assert order == [int(i) for i in ref.get("image.order", [])]
    for field in ("tokens", "targets", "positions", "kind", "image", "document"):
        mine = torch.tensor([getattr(r, field) for r in rows], dtype=torch.float32)
        assert torch.equal(mine, ref["row." + field]), field
    assert torch.equal(batch.inputs.tokens.float(), ref["feed.tokens"])
    assert torch.equal(batch.targets.float(), ref["feed.targets"])
    assert torch.equal(batch.inputs.mask.float(), ref["feed.mask"])
    if "feed.is_patch" in ref:
        assert torch.equal(batch.inputs.is_patch.float(), ref["feed.is_patch"][..., 0])
        assert torch.equal(batch.learned, ref["feed.diffusion_mask"][..., 0])
        for mine, theirs in [(batch.inputs.patches, "patches"), (batch.noise, "noise"), (batch.inputs.time, "time")]:
            assert (mine - ref["feed." + theirs]).abs().max() <= 1e-6, theirs
    assert (batch.inputs.cos - ref["feed.rope_cos"][:, 0]).abs().max() <= 1e-6
    assert (batch.inputs.sin - ref["feed.rope_sin"][:, 0]).abs().max() <= 1e-6
    if "schedule.alpha_bar" in ref:
        assert (model.process.alpha_bars.float() - ref["schedule.alpha_bar"]).abs().max() <= 1e-6
