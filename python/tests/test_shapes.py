"""The two directions on real runs: a checkpoint trained by examples/shapes.tfs (shortened to 20
steps here: the path is what matters) sampled and captioned in PyTorch, equal to tfs; and a
model trained 300 steps by the PyTorch trainer, loaded in tfs, drawn, captioned and judged."""
import ast
import json
import re

import tfs_torch
from helpers import ROOT, reference, run_tfs
from test_training import train
from tfs_torch.generation import Generator, Options
from tfs_torch.samplers import Sampler

PROMPTS = ["a large red circle on the left", "a small blue square at the top", "a large green triangle in the center"]


def test_shapes_example_checkpoint_samples_in_torch(tmp_path):
    script = (ROOT / "examples" / "shapes.tfs").read_text()
    short = script.replace("steps=3000", "steps=20").replace("n=100", "n=4").replace("steps=50", "steps=5").replace("eval_every=500", "eval_every=10")
    assert short.count("steps=20") == 1 and "n=4" in short
    (tmp_path / "shapes.tfs").write_text(short)
    run_tfs("run", "shapes.tfs", cwd=tmp_path)
    checkpoint = str(tmp_path / "runs" / "shapes.safetensors")
    ref, meta, _ = reference(tmp_path, "shapes", load=checkpoint, draw=json.dumps(PROMPTS), sampler="ddim", sampler_steps=10,
                             cfg=3, draw_seed=5, examples=1)
    model = tfs_torch.load(checkpoint)
    assert model.config.dim == 128 and model.config.objective == "v" and model.config.patch_side == 4
    images = Generator(model, Options(sampler=Sampler("ddim", 10), cfg=3)).images(PROMPTS, noise=ref["draw.noise"])
    for mine, theirs in zip(images, ref["draw.pixels"]):
        assert (mine - theirs).abs().max() <= 1e-3
    # Greedy captions of tfs's drawn images, with guidance as tfs wrote them.
    captions = Generator(model, Options(cfg=3, max_tokens=12)).captions(list(ref["draw.pixels"]))
    assert captions == json.loads(meta["draw.captions"])


def test_torch_trained_checkpoint_is_judged_in_tfs(tmp_path):
    (tmp_path / "export.tfs").write_text(
        'model = transfusion(dim=64, layers=2, heads=2, image=16, patch=4, predict="v", mask=causal | same_image)\n'
        'export_run(model, shapes(size=16, seed=0), "run.json", steps=300, batch=8, length=64,\n'
        '           lr=warmup(20) >> cosine(2e-3), items=2000, checkpoint="out.safetensors")\n')
    run_tfs("run", "export.tfs", cwd=tmp_path)
    train(tmp_path, "--losses", "losses.jsonl")
    losses = [json.loads(line) for line in open(tmp_path / "losses.jsonl")]
    assert len(losses) == 300
    first, last = (sum(x["lm"] for x in part) / 20 for part in (losses[:20], losses[-20:]))
    assert last < first / 3, (first, last)
    (tmp_path / "judge.tfs").write_text(
        'data = shapes(size=16, seed=0)\n'
        'for path in ["run.init.safetensors", "out.safetensors"]:\n'
        '    m = load_model(path)\n'
        '    show(draw(m, ["a large red circle on the left", "a small blue square at the top"], steps=20, cfg=3))\n'
        '    print(path, "images:", judge_images(m, data, n=20, steps=20, cfg=3))\n'
        '    print(path, "captions:", judge_captions(m, data, n=20))\n')
    printed = run_tfs("run", "judge.tfs", cwd=tmp_path)
    judged = {(m.group(1), m.group(2)): ast.literal_eval(m.group(3))
              for m in re.finditer(r"^(\S+) (images|captions): (\{.*\})$", printed, re.M)}
    assert len(judged) == 4, printed
    before, after = judged[("run.init.safetensors", "captions")], judged[("out.safetensors", "captions")]
    # The untrained model writes no words of the captions; the trained one writes shapes captions.
    assert before["cider"] == 0 and after["cider"] > 0.5 and after["size"] > before["size"], (before, after)
    assert set(judged[("out.safetensors", "images")]) >= {"colour", "kind", "size", "position", "all"}
