"""A VAE trained by tfs, read by the bridge: the same latents of the same images, the same
images decoded from them; and a latent model's drawn latents decode to pixels."""
import pytest
import torch
from safetensors.torch import load_file

import tfs_torch
from helpers import run_tfs
from tfs_torch.vae import load_vae


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_vae_encodes_and_decodes_as_tfs(tmp_path, factor):
    (tmp_path / "v.tfs").write_text(
        f'v = train_vae(vae(channels=4, factor={factor}, width=8), shapes(size=16), steps=5, batch=4).vae\n'
        'v.save("vae.safetensors")\n'
        'batch = shapes(size=16, seed=3).take(4)\n'
        'z = v.encode(batch)\n'
        'save("ref.safetensors", {"images": batch.images, "latents": z, "decoded": v.decode(z).tensor})\n')
    run_tfs("run", "v.tfs", cwd=tmp_path)
    ref = load_file(str(tmp_path / "ref.safetensors"))
    vae = load_vae(str(tmp_path / "vae.safetensors"))
    assert vae.scale != 1.0
    z = vae.encode(ref["images"])
    assert (z - ref["latents"]).abs().max() <= 1e-4 * ref["latents"].abs().max()
    assert (vae.decode(ref["latents"]) - ref["decoded"]).abs().max() <= 1e-4


def test_vae_refuses_a_model_checkpoint(tmp_path):
    config = tfs_torch.ModelConfig(dim=16, layers=1, heads=2, patch_size=12, image_side=4, time_features=8)
    path = tmp_path / "m.safetensors"
    tfs_torch.save(tfs_torch.Transfusion(config), str(path))
    try:
        load_vae(str(path))
    except tfs_torch.CheckpointError as e:
        assert "not a tfs VAE" in str(e)
    else:
        raise AssertionError("a model checkpoint was read as a VAE")


def test_latent_model_draws_pixels_through_its_vae(tmp_path):
    (tmp_path / "l.tfs").write_text(
        'v = train_vae(vae(channels=4, factor=2, width=8), shapes(size=8), steps=3, batch=4).vae\n'
        'v.save("vae.safetensors")\n'
        'm = transfusion(dim=32, layers=1, heads=2, image=8, patch=2, predict="v", latent=v)\n'
        'train(m, shapes(size=8), steps=2, batch=2, checkpoint="m.safetensors")\n')
    run_tfs("run", "l.tfs", cwd=tmp_path)
    from tfs_torch.generation import Generator, Options
    from tfs_torch.samplers import Sampler
    model, vae = tfs_torch.load(str(tmp_path / "m.safetensors")), load_vae(str(tmp_path / "vae.safetensors"))
    assert model.config.latent and model.config.image_side == 4 and model.config.channels == 4
    g = Generator(model, Options(sampler=Sampler("ddim", 3), max_tokens=4), vae=vae)
    pixels = g.images(["a red circle"])[0]
    assert pixels.shape == (8, 8, 3) and 0 <= float(pixels.min()) and float(pixels.max()) <= 1
    assert len(g.captions([pixels])) == 1
