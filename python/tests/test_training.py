"""A tfs script's model and recipe exported (export_run) and trained by `python -m tfs_torch.train`,
alone and under torchrun with two gloo processes: the same global batch gives the same losses,
and the checkpoints it writes are read by tfs."""
import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors import safe_open

import tfs_torch
from helpers import ROOT, run_tfs
from tfs_torch import datasets
from tfs_torch.recipe import Policy, draw_batch

SCRIPT = """
model = transfusion(dim=32, layers=2, heads=2, image=8, patch=2, predict="v", encoder="{encoder}", mask=causal | same_image)
print(export_run(model, mixture(shapes(size=8), text("notes.txt"), weights=[3, 1]), "run.json", steps=30, batch=4,
                 length=64, lr=warmup(5) >> cosine(1e-3), items=64, checkpoint="out/torch.safetensors", save_every=10, keep=2))
"""
NOTES = "the quick brown fox\njumps\n\nover the lazy dog and keeps running far away from everything it knows\n"


def python_env():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"), OMP_NUM_THREADS="1")
    return env


def train(folder, *args, torchrun=False):
    bin_dir = os.path.dirname(sys.executable)
    command = ([os.path.join(bin_dir, "torchrun"), "--standalone", "--nproc_per_node=2"] if torchrun else [sys.executable]) + \
        ["-m", "tfs_torch.train", "run.json", *args]
    done = subprocess.run(command, cwd=folder, env=python_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def exported(tmp_path, encoder="linear"):
    (tmp_path / "notes.txt").write_text(NOTES)
    (tmp_path / "export.tfs").write_text(SCRIPT.format(encoder=encoder))
    run_tfs("run", "export.tfs", cwd=tmp_path)
    return json.loads((tmp_path / "run.json").read_text())


@pytest.mark.parametrize("encoder", ["linear", "unet"])
def test_torchrun_two_processes_equal_one(tmp_path, encoder):
    run = exported(tmp_path, encoder)
    assert run["train"]["lr"] == {"then": [{"warmup": 5}, {"cosine": {"peak": 0.001, "floor": 0.05}}]}
    train(tmp_path, "--losses", "one.jsonl")
    train(tmp_path, "--losses", "two.jsonl", "--checkpoint", "out/ddp.safetensors", torchrun=True)
    one = [json.loads(line) for line in open(tmp_path / "one.jsonl")]
    two = [json.loads(line) for line in open(tmp_path / "two.jsonl")]
    assert len(one) == len(two) == 30
    for a, b in zip(one, two):
        for key in ("loss", "lm", "diffusion"):
            assert abs(a[key] - b[key]) <= 1e-4 * abs(a[key]), (a["step"], key, a[key], b[key])
    assert one[-1]["loss"] < one[0]["loss"]
    # Periodic checkpoints (the newest 2 kept) and the final one; tfs reads them.
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == ["ddp.safetensors", "ddp.step-00000020.safetensors", "ddp.step-00000030.safetensors",
                     "torch.safetensors", "torch.step-00000020.safetensors", "torch.step-00000030.safetensors"]
    with safe_open(str(tmp_path / "out" / "torch.safetensors"), "pt") as f:
        assert f.metadata()["step"] == "30" and f.metadata()["optimizer_steps"] == "30"
    a, b = tfs_torch.load(str(tmp_path / "out" / "torch.safetensors")), tfs_torch.load(str(tmp_path / "out" / "ddp.safetensors"))
    for name, p in a.weights().items():
        assert float((p.detach() - b.weights()[name].detach()).abs().max()) <= 1e-4 * max(float(p.detach().abs().max()), 1e-3), name
    printed = run_tfs("run", _write(tmp_path / "check.tfs", 'm = load_model("out/ddp.safetensors")\nprint(m)'), cwd=tmp_path)
    assert f'encoder="{encoder}"' in printed and "mask=causal | same_image" in printed, printed


def test_exported_data_and_recipe(tmp_path):
    exported(tmp_path)
    data = datasets.load(json.loads((tmp_path / "run.json").read_text())["data"], str(tmp_path), 64)
    pairs, texts = data.parts
    assert pairs.pixels.shape == (64, 8, 8, 3) and len(pairs.captions) == 64
    # tfs cut the long document to fit a row (62 bytes of 64 positions); the bridge cuts alike.
    documents = ["the quick brown fox\njumps", "over the lazy dog and keeps running far away from everything it knows"]
    assert texts.documents == [piece for d in documents for piece in datasets.chunks(d, 62)]
    assert len(texts.documents) == 3
    model = tfs_torch.load(str(tmp_path / "run.init.safetensors"))
    g = torch.Generator().manual_seed(0)
    # Every image first, its step capped; or every caption dropped.
    batch = draw_batch(model, pairs, 32, 64, Policy(image_first=1.0, caption_noise=7, cfg_dropout=0.0), g)
    assert all(0 <= s <= 7 for s in batch.steps) and all(row[1] == 258 for row in batch.inputs.tokens.tolist())
    batch = draw_batch(model, pairs, 32, 64, Policy(image_first=0.0, caption_noise=7, cfg_dropout=1.0), g)
    assert all(row[:2] == [256, 258] for row in batch.inputs.tokens.tolist()) and min(batch.steps) >= 1


def test_long_texts_are_cut_as_tfs_cuts_them():
    text = "one two three four five six seven eight nine ten ééé eleven twelve"
    pieces = datasets.chunks(text, 14)
    assert "".join(pieces) == text and all(len(p.encode()) <= 14 for p in pieces)
    assert pieces[0] == "one two three "


def _write(path, text):
    path.write_text(text + "\n")
    return path


def exported_folder(folder, script, images):
    """Runs a tfs script that exports a run on the image folder `images` (size 8): the pixels
    the run file holds, and the folder as the bridge reads it itself."""
    (folder / "export.tfs").write_text(script)
    run_tfs("run", "export.tfs", cwd=folder)
    theirs = datasets.load(json.loads((folder / "run.json").read_text())["data"], str(folder), 64)
    return theirs, datasets.load({"images": {"folder": images, "size": 8}}, str(folder), 64)


def test_image_folders_read_as_tfs_reads_them(tmp_path):
    """PNG decoding and box downsampling: tfs saves shapes as a folder of 16×16 PNGs, reads it at
    size 8 and exports the pixels it holds; the bridge reads the folder itself."""
    theirs, mine = exported_folder(tmp_path, 'shapes(size=16, two=True).take(12).save("folder")\n'
                                   'm = transfusion(dim=16, layers=1, heads=2, image=8, patch=2)\n'
                                   'export_run(m, images("folder", size=8), "run.json", steps=1, batch=2, length=128)\n', "folder")
    assert mine.captions == theirs.captions and len(mine.captions) == 12
    assert (mine.pixels - theirs.pixels).abs().max() <= 1e-6


def test_bf16_autocast_trains(tmp_path):
    exported(tmp_path)
    printed = train(tmp_path, "--steps", "3", "--bf16", "--losses", "bf16.jsonl", "--checkpoint", "out/bf16.safetensors")
    losses = [json.loads(line) for line in open(tmp_path / "bf16.jsonl")]
    assert len(losses) == 3 and all(0 < x["loss"] < 100 for x in losses), printed
    assert tfs_torch.load(str(tmp_path / "out" / "bf16.safetensors")).weights()["final_norm"].dtype == torch.float32


def test_resume_continues_exactly(tmp_path):
    exported(tmp_path)
    train(tmp_path, "--steps", "20", "--checkpoint", "out/a.safetensors", "--losses", "a.jsonl")
    printed = train(tmp_path, "--steps", "20", "--resume", "out/a.step-00000010.safetensors",
                    "--checkpoint", "out/b.safetensors", "--losses", "b.jsonl")
    assert "resuming from out/a.step-00000010.safetensors at step 10" in printed
    a, b = tfs_torch.load(str(tmp_path / "out" / "a.safetensors")), tfs_torch.load(str(tmp_path / "out" / "b.safetensors"))
    for name, p in a.weights().items():
        assert torch.equal(p, b.weights()[name]), name
    tail = [json.loads(line) for line in open(tmp_path / "a.jsonl")][10:]
    assert tail == [json.loads(line) for line in open(tmp_path / "b.jsonl")]
    with safe_open(str(tmp_path / "out" / "b.safetensors"), "pt") as f:
        assert f.metadata()["step"] == "20" and f.metadata()["optimizer_steps"] == "20"


def test_a_gray_model_trains_on_gray_glyphs_and_draws_gray(tmp_path):
    """tfs glyphs writes gray PNGs; a one-channel model (transfusion(channels=1)) exports one
    value per pixel — the mean of the RGB values tfs holds — trains here, and tfs draws gray
    PNGs from the checkpoint."""
    run_tfs("glyphs", "glyphs", "--size", "16", "--per-class", "2", "--test-per-class", "0", cwd=tmp_path)
    theirs, mine = exported_folder(tmp_path, 'm = transfusion(dim=16, layers=1, heads=2, image=8, patch=2, channels=1)\n'
                                   'export_run(m, images("glyphs/train", size=8), "run.json", steps=2, batch=2, length=64,'
                                   ' checkpoint="out/gray.safetensors")\n', "glyphs/train")
    assert theirs.pixels.shape == (20, 8, 8, 1) and mine.captions == theirs.captions
    assert (mine.pixels.mean(-1, keepdim=True) - theirs.pixels).abs().max() <= 1e-6
    train(tmp_path)
    (tmp_path / "d.tfs").write_text('m = load_model("out/gray.safetensors")\n'
                                    'draw(m, ["the digit 3"], steps=2)[0].save("drawn.png")\nprint("channels", m.channels)\n')
    assert "channels 1" in run_tfs("run", "d.tfs", cwd=tmp_path)
    header = (tmp_path / "drawn.png").read_bytes()[16:26]
    assert header[:8] == (8).to_bytes(4, "big") * 2 and header[8:] == bytes([8, 0])   # 8×8, 8-bit gray
