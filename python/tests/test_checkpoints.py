"""tfs_torch.save → tfs: load_model reads the weights, config and mask; train(resume=) continues
from the AdamW moments and counters. And input the bridge must refuse, naming the field."""
import json
import struct

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import tfs_torch
from helpers import reference, relative, replay_batch, run_tfs
from tfs_torch.optim import AdamW

CONFIG = {"dim": 32, "layers": 2, "heads": 2, "timeFeatures": 16, "patchSize": 12, "imageSide": 8, "objective": "v"}
MASK = '{"or":[{"and":[{"causal":{}},{"window":{"n":9}}]},{"same_image":{}}]}'


def test_saved_checkpoint_loads_and_resumes_in_tfs(tmp_path):
    ref, meta, checkpoint = reference(tmp_path, "start", CONFIG, mask=MASK, examples=6, length=64)
    model = tfs_torch.load(checkpoint)
    rows, _, batch = replay_batch(model, ref, meta, 64)
    optimizer = AdamW(model.weights().items())
    for _ in range(3):
        model.zero_grad()
        model.losses(batch.inputs, batch.targets, batch.noise, batch.learned)[0].backward()
        optimizer.step(1e-3)
    saved = tmp_path / "torch.safetensors"
    tfs_torch.save(model, str(saved), optimizer.moments(), step=3, optimizer_steps=3, rng=(5, 6, 7, 8))

    # tfs reads the weights and mask back (the same loader as load_model) and computes the same
    # losses on the same examples.
    again, again_meta, _ = reference(tmp_path, "again", load=str(saved), examples=6, length=64)
    for name, p in model.weights().items():
        assert torch.equal(p.detach(), again["weight." + name]), name
    assert json.loads(again_meta["mask"]) == json.loads(MASK)
    total, lm, diffusion = model.losses(batch.inputs, batch.targets, batch.noise, batch.learned)
    assert relative(total.detach(), again["out.loss"]) <= 1e-5
    assert relative(lm.detach(), again["out.lm"]) <= 1e-5

    # A script: load_model, then train(resume=) from the saved step, counters and moments.
    script = tmp_path / "resume.tfs"
    out = tmp_path / "resumed.safetensors"
    script.write_text(f'm = load_model("{saved}")\nprint(m)\n'
                      f'run = train(m, shapes(size=8), steps=5, batch=2, length=64, resume="{saved}", checkpoint="{out}")\n'
                      'print(run.steps)\n')
    printed = run_tfs("run", script)
    assert f"train: resuming from {saved} at step 3" in printed, printed
    with safe_open(str(out), "pt") as f:
        assert f.metadata()["step"] == "5" and f.metadata()["optimizer_steps"] == "5"
        # Two more AdamW steps from the saved moments: they moved on from them, not from zero.
        m = f.get_tensor("optimizer.m.block0.attn.wq")
    assert m.abs().max() > 0


def test_torch_initialised_model_round_trips(tmp_path):
    config = tfs_torch.ModelConfig(dim=16, layers=1, heads=2, patch_size=48, image_side=8, time_features=8, encoder="unet")
    model = tfs_torch.Transfusion(config, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "fresh.safetensors"
    tfs_torch.save(model, str(path))
    back = tfs_torch.load(str(path))
    for name, p in model.weights().items():
        assert torch.equal(p, back.weights()[name])
    printed = run_tfs("run", _script(tmp_path, f'print(load_model("{path}"))'))
    assert "unet" in printed


def _script(tmp_path, text):
    p = tmp_path / "s.tfs"
    p.write_text(text + "\n")
    return p


def _checkpoint(tmp_path, name="ok"):
    config = tfs_torch.ModelConfig(dim=16, layers=1, heads=2, patch_size=12, image_side=4, time_features=8)
    path = tmp_path / f"{name}.safetensors"
    tfs_torch.save(tfs_torch.Transfusion(config), str(path))
    return path


def _rewrite(tmp_path, change):
    """A valid checkpoint with its metadata or tensors changed by `change(tensors, metadata)`."""
    src = _checkpoint(tmp_path)
    with safe_open(str(src), "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = dict(f.metadata())
    change(tensors, meta)
    out = tmp_path / "bad.safetensors"
    save_file(tensors, str(out), metadata=meta)
    return out


def _config_change(**fields):
    def change(tensors, meta):
        c = json.loads(meta["config"])
        for k, v in fields.items():
            if v is None:
                c.pop(k)
            else:
                c[k] = v
        meta["config"] = json.dumps(c)
    return change


BAD = {
    "unknown field": (_config_change(adaLN=True), "the model config has the field 'adaLN'"),
    "newer format": (lambda t, m: m.update(format="tfs-checkpoint-2"), "its format is 'tfs-checkpoint-2', newer"),
    "other tool": (lambda t, m: m.pop("format"), "not a tfs checkpoint (its format metadata is missing"),
    "no config": (lambda t, m: m.pop("config"), "its config metadata is missing"),
    "negative dim": (_config_change(dim=-4), "the model config's dim must be from 2"),
    "missing layers": (_config_change(layers=None), "the model config has no 'layers'"),
    "bad objective": (_config_change(objective="x0"), "the model config's objective must be one of"),
    "vocabulary": (_config_change(vocabulary=300), "the model config's vocabulary is 300"),
    "codebook": (_config_change(codebook={"size": 4}), "the model config's codebook"),
    "script pieces": (_config_change(pieces={"mlp": "my_mlp"}), "the model config's pieces (mlp): pieces written in a tfs script"),
    "table rises": (_config_change(schedule={"table": {"name": "s", "alphaBars": [0.9, 0.95]}}), "ᾱ rises at step 2"),
    "schedule": (_config_change(schedule={"sigmoid": {"steps": 10}}), "schedule must be 'cosine', 'linear' or 'table'"),
    "bad mask": (lambda t, m: m.update(mask='{"spiral":{}}'), "the checkpoint's mask: mask JSON: unknown kind"),
    "missing tensor": (lambda t, m: t.pop("block0.attn.wq"), "has no tensor 'block0.attn.wq'"),
    "wrong shape": (lambda t, m: t.update({"final_norm": torch.ones(3)}), "tensor 'final_norm' is [3]"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_checkpoints_are_refused_naming_the_field(case, tmp_path):
    change, words = BAD[case]
    path = _rewrite(tmp_path, change)
    with pytest.raises(tfs_torch.CheckpointError) as e:
        tfs_torch.load(str(path))
    assert words in str(e.value)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    good = _checkpoint(tmp_path).read_bytes()
    for size in (0, 5, 100, len(good) // 2, len(good) - 1):
        p = tmp_path / f"cut{size}.safetensors"
        p.write_bytes(good[:size])
        with pytest.raises(tfs_torch.CheckpointError) as e:
            tfs_torch.load(str(p))
        assert "truncated" in str(e.value) or "not JSON" in str(e.value), (size, str(e.value))
    other = tmp_path / "other.safetensors"
    save_file({"weight": torch.ones(2)}, str(other), metadata={"format": "pt"})
    with pytest.raises(tfs_torch.CheckpointError, match="not a tfs checkpoint"):
        tfs_torch.load(str(other))
    text = tmp_path / "notes.safetensors"
    text.write_bytes(struct.pack("<Q", 10**12) + b"hello")
    with pytest.raises(tfs_torch.CheckpointError, match="header length"):
        tfs_torch.load(str(text))
