"""The same weights on the same packed batch in tfs and in PyTorch: the bridge recomputes the
batch from the examples alone (packing, tokenizer, noising, RoPE, masks), then the logits, patch
predictions, both losses, every gradient and one AdamW step, against `tfs reference`."""
import json

import pytest
import torch

import tfs_torch
from helpers import check_batch, reference, relative, replay_batch
from tfs_torch import masks  # noqa: F401 (tfs_torch.masks)
from tfs_torch.optim import AdamW

SMALL = {"dim": 32, "layers": 2, "heads": 2, "timeFeatures": 16}
CAUSAL_SAME_IMAGE = '{"or":[{"causal":{}},{"same_image":{}}]}'
WINDOW = '{"or":[{"and":[{"causal":{}},{"window":{"n":5}}]},{"same_image":{}}]}'
DOCUMENTS = json.dumps({"or": [{"and": [{"causal": {}}, {"document": {"ids": [i // 20 for i in range(64)]}}]}, {"same_image": {}}]})
MIXED = json.dumps({"or": [{"and": [{"causal": {}}, {"not": {"modality": {"query": "image", "key": "text"}}}]},
                           {"same_image": {}}, {"prefix": {"n": 2}}]})
BPE = {"merges": [[114, 101], [261, 100], [32, 262], [99, 105], [264, 114], [108, 101]]}

GRID = {
    "linear-p1-eps-cosine": ({"patchSize": 3, "imageSide": 4}, CAUSAL_SAME_IMAGE),
    "linear-p2-v-linear": ({"patchSize": 12, "imageSide": 8, "objective": "v", "schedule": {"linear": {"steps": 1000}}}, '{"causal":{}}'),
    "linear-p4-flow": ({"patchSize": 48, "imageSide": 8, "objective": "flow"}, WINDOW),
    "unet-p1-eps": ({"patchSize": 3, "imageSide": 4, "encoder": "unet"}, DOCUMENTS),
    "unet-p2-v-linear500": ({"patchSize": 12, "imageSide": 8, "encoder": "unet", "objective": "v",
                             "schedule": {"linear": {"steps": 500}}}, CAUSAL_SAME_IMAGE),
    "unet-p4-flow": ({"patchSize": 48, "imageSide": 8, "encoder": "unet", "objective": "flow"}, MIXED),
    "latent-vae": ({"patchSize": 16, "imageSide": 4, "channels": 4, "latent": True, "objective": "v"}, CAUSAL_SAME_IMAGE),
    "bpe": ({"patchSize": 12, "imageSide": 8, "tokenizer": BPE}, CAUSAL_SAME_IMAGE),
    "table-schedule": ({"patchSize": 12, "imageSide": 8, "objective": "v",
                        "schedule": {"table": {"name": "steep", "alphaBars": [1 - (i / 60) ** 0.5 * 0.999 for i in range(1, 61)]}}},
                       CAUSAL_SAME_IMAGE),
}


@pytest.mark.parametrize("case", sorted(GRID))
def test_step_equals_tfs(case, tmp_path):
    extra, mask = GRID[case]
    ref, meta, checkpoint = reference(tmp_path, case, {**SMALL, **extra}, mask=mask, examples=6, length=64, lr=1e-3)
    model = tfs_torch.load(checkpoint)
    assert tfs_torch.masks.to_json(model.mask) == tfs_torch.masks.to_json(tfs_torch.masks.parse(mask))
    for name, p in model.weights().items():
        assert torch.equal(p.detach(), ref["weight." + name]), name

    rows, order, batch = replay_batch(model, ref, meta, 64)
    # The packed rows and the feeder's inputs, recomputed from the examples alone.
    check_batch(model, ref, rows, order, batch)

    f = model.forward(batch.inputs)
    assert relative(model.token_logits(f.hidden).detach(), ref["out.logits"]) <= 1e-4
    assert relative(model.patch_prediction(f, batch.inputs).detach(), ref["out.patches"]) <= 1e-4
    total, lm, diffusion = model.losses(batch.inputs, batch.targets, batch.noise, batch.learned)
    for mine, theirs in [(total, "loss"), (lm, "lm"), (diffusion, "diffusion")]:
        assert relative(mine.detach(), ref["out." + theirs]) <= 1e-5, theirs
    total.backward()
    # Each gradient to 1e-4 of its largest value — or of 1e-4 of the largest gradient of all,
    # for gradients that are 0 in exact arithmetic and float noise on both sides (a U-Net
    # level of one channel per group, whose GroupNorm removes the time shift added before it).
    floor = 1e-4 * max(float(ref["grad." + n].abs().max()) for n in model.weights())
    for name, p in model.weights().items():
        theirs = ref["grad." + name]
        assert (p.grad - theirs).abs().max() <= 1e-4 * max(float(theirs.abs().max()), floor), name

    # One AdamW step from the bridge's own gradients (the whole pipeline), then from tfs's
    # gradients (the optimizer alone). Adam's first step moves each weight by about lr·g/|g|:
    # where |g| is tiny its float noise decides the direction, so the pipeline is held to
    # 1e-5 where the gradient is at least 1e-3 of the tensor's largest, and elsewhere to
    # Adam's own bound on one step (2·lr).
    optimizer = AdamW(model.weights().items())
    assert relative(torch.tensor(optimizer.step(1e-3)), ref["adamw.norm"]) <= 1e-5
    for name, p in model.weights().items():
        g, after = ref["grad." + name].abs(), ref["adamw.weight." + name]
        diff = (p.detach() - after).abs()
        sure = g >= 1e-3 * max(float(g.max()), floor)
        assert not sure.any() or diff[sure].max() <= 1e-5 * after.abs().max(), name
        assert diff.max() <= 2e-3, name
    again = tfs_torch.load(checkpoint)
    for name, p in again.weights().items():
        p.grad = ref["grad." + name].clone()
    optimizer = AdamW(again.weights().items())
    optimizer.step(1e-3)
    for name, p in again.weights().items():
        assert relative(p.detach(), ref["adamw.weight." + name]) <= 1e-5, name
        assert relative(optimizer.m[name], ref["adamw.m." + name]) <= 1e-5, name
        assert relative(optimizer.v[name], ref["adamw.v." + name]) <= 1e-5, name
