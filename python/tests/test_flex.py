"""FlexAttention: the mask algebra as a mask_mod equals the dense evaluation on random masks and
layouts, and the model gives the same outputs and gradients with a block mask as with dense masks."""
import random

import torch

import tfs_torch
from helpers import reference, replay_batch
from test_masks import random_layout, random_mask
from tfs_torch import masks


def test_mask_mod_equals_dense_evaluation():
    rng = random.Random(7)
    for _ in range(200):
        _, tree = random_mask(rng)
        _, kind, image, document = random_layout(rng)
        t = kind.shape[0]
        mod = masks.mask_mod(tree, kind[None], image[None], document[None])
        grid = mod(0, 0, torch.arange(t)[:, None], torch.arange(t)[None, :]).expand(t, t)
        assert torch.equal(grid, masks.evaluate(tree, kind, image, document)), tree


def test_flex_attention_equals_dense(tmp_path):
    """Forward only: PyTorch's FlexAttention has no backward on CPU (training with it is for GPUs)."""
    mask = '{"or":[{"and":[{"causal":{}},{"window":{"n":9}}]},{"same_image":{}}]}'
    config = {"dim": 32, "layers": 2, "heads": 2, "timeFeatures": 16, "patchSize": 12, "imageSide": 8, "encoder": "unet"}
    ref, meta, checkpoint = reference(tmp_path, "flex", config, mask=mask, examples=6, length=64)
    model = tfs_torch.load(checkpoint)
    _, _, batch = replay_batch(model, ref, meta, 64)
    with torch.no_grad():
        dense = model.forward(batch.inputs)
        batch.inputs.block_mask = masks.block_mask(masks.training_mask(model.mask), *batch.layout)
        flex = model.forward(batch.inputs)
        assert (model.token_logits(flex.hidden) - ref["out.logits"]).abs().max() <= 1e-4 * ref["out.logits"].abs().max()
        assert (flex.hidden - dense.hidden).abs().max() <= 1e-5 * dense.hidden.abs().max()
        total, _, _ = model.losses(batch.inputs, batch.targets, batch.noise, batch.learned)
    assert abs(float(total) - float(ref["out.loss"])) <= 1e-5 * float(ref["out.loss"])
