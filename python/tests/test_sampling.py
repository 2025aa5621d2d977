"""Sampling in PyTorch against tfs's generator: the same weights and starting noise draw the
same image (DDIM, Euler, midpoint; with and without classifier-free guidance; pixels and
latents), through the bridge's KV cache."""
import json

import pytest
import torch

import tfs_torch
from helpers import reference
from tfs_torch.generation import Generator, Options
from tfs_torch.samplers import Sampler

SMALL = {"dim": 32, "layers": 2, "heads": 2, "timeFeatures": 16}
CAPTIONS = ["a red circle", "blue square on the left"]
GRID = {
    "linear-eps-ddim": ({"patchSize": 12, "imageSide": 8}, "ddim", 10, 1.0),
    "linear-v-linear-ddim-cfg": ({"patchSize": 12, "imageSide": 8, "objective": "v", "schedule": {"linear": {"steps": 200}}}, "ddim", 20, 2.0),
    "unet-flow-midpoint-cfg": ({"patchSize": 12, "imageSide": 8, "encoder": "unet", "objective": "flow"}, "midpoint", 5, 3.0),
    "linear-p4-flow-euler": ({"patchSize": 48, "imageSide": 8, "objective": "flow"}, "euler", 8, 1.0),
    "unet-p1-eps-ddim": ({"patchSize": 3, "imageSide": 4, "encoder": "unet"}, "ddim", 6, 1.5),
    "latent-v-ddim": ({"patchSize": 16, "imageSide": 4, "channels": 4, "latent": True, "objective": "v"}, "ddim", 10, 1.0),
}


@pytest.mark.parametrize("case", sorted(GRID))
def test_drawn_images_equal_tfs(case, tmp_path):
    extra, sampler, steps, cfg = GRID[case]
    ref, meta, checkpoint = reference(tmp_path, case, {**SMALL, **extra}, draw=json.dumps(CAPTIONS), sampler=sampler,
                                      sampler_steps=steps, cfg=cfg, draw_seed=3, examples=1)
    model = tfs_torch.load(checkpoint)
    images = Generator(model, Options(sampler=Sampler(sampler, steps), cfg=cfg)).images(CAPTIONS, noise=ref["draw.noise"])
    for mine, theirs in zip(images, ref["draw.pixels"]):
        assert mine.shape == theirs.shape
        assert (mine - theirs).abs().max() <= 1e-3 * max(1.0, float(theirs.abs().max()))


def test_samplers_refuse_what_the_process_cannot_do(tmp_path):
    _, _, checkpoint = reference(tmp_path, "flow", {**SMALL, "patchSize": 12, "imageSide": 8, "objective": "flow"}, examples=1)
    model = tfs_torch.load(checkpoint)
    for sampler, words in [(Sampler("ddpm", 10), "flow matching"), (Sampler("ddim", 2000), "between 1 and 1000")]:
        with pytest.raises(ValueError, match=words):
            Generator(model, Options(sampler=sampler))
    # DDPM (ancestral, with noise) draws from an eps model, seeded by torch.
    _, _, checkpoint = reference(tmp_path, "eps", {**SMALL, "patchSize": 12, "imageSide": 8}, examples=1)
    eps = tfs_torch.load(checkpoint)
    a = Generator(eps, Options(sampler=Sampler("ddpm", 5)), torch.Generator().manual_seed(1)).images(["x"])[0]
    b = Generator(eps, Options(sampler=Sampler("ddpm", 5)), torch.Generator().manual_seed(1)).images(["x"])[0]
    assert torch.equal(a, b) and a.shape == (8, 8, 3) and 0 <= float(a.min()) and float(a.max()) <= 1
