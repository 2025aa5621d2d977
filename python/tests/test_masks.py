"""The mask algebra on random layouts and random mask expressions: `tfs mask` evaluates each
expression (and writes its JSON encoding); the bridge evaluates its own tree and the JSON."""
import random

import torch
from safetensors import safe_open

from helpers import run_tfs
from tfs_torch import masks

LEAVES = ["causal", "bidirectional", "nothing", "same_image", "same_document",
          "text_to_text", "text_to_image", "image_to_text", "image_to_image"]


def random_mask(rng, depth=0):
    """(tfs text, bridge tree) of a random mask expression."""
    roll = rng.random()
    if depth >= 3 or roll < 0.35:
        choice = rng.choice(LEAVES + ["prefix", "window", "document"])
        if choice in ("prefix", "window"):
            n = rng.randint(1, 12)
            return f"{choice}({n})", (choice, n)
        if choice == "document":
            ids = [rng.randint(0, 2) for _ in range(rng.randint(0, 30))]
            return f"document([{', '.join(map(str, ids))}])", ("document", ids)
        if "_to_" in choice:
            q, k = choice.split("_to_")
            return choice, ("modality", q, k)
        return choice, (choice,)
    if roll < 0.5:
        text, tree = random_mask(rng, depth + 1)
        return f"~({text})", ("not", tree)
    op = rng.choice(["|", "&"])
    (a, ta), (b, tb) = random_mask(rng, depth + 1), random_mask(rng, depth + 1)
    return f"({a}) {op} ({b})", ("or" if op == "|" else "and", [ta, tb])


def random_layout(rng):
    """(tfs layout text, kind, image, document) of a random sequence."""
    words, kind, image, document = [], [], [], []
    doc, images = 0, 0
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.15 and kind:
            words.append("/")
            doc += 1
        elif roll < 0.5:
            n = rng.randint(1, 5)
            words.append(f"text:{n}")
            kind += [0] * n; image += [-1] * n; document += [doc] * n
        elif roll < 0.85:
            h, w = rng.randint(1, 3), rng.randint(1, 3)
            words.append(f"image:{h}x{w}")
            kind += [1] + [2] * (h * w) + [3]; image += [images] * (h * w + 2); document += [doc] * (h * w + 2)
            images += 1
        else:
            n = rng.randint(1, 3)
            words.append(f"pad:{n}")
            kind += [4] * n; image += [-1] * n; document += [doc] * n
    if not kind:
        words.append("text:1"); kind, image, document = [0], [-1], [doc]
    return " ".join(words), torch.tensor(kind), torch.tensor(image), torch.tensor(document)


def test_masks_match_tfs_on_random_cases(tmp_path):
    rng = random.Random(15)
    for case in range(60):
        text, tree = random_mask(rng)
        spec, kind, image, document = random_layout(rng)
        out = tmp_path / f"m{case}.safetensors"
        run_tfs("mask", spec, "--mask", text, "-o", out)
        with safe_open(str(out), "pt") as f:
            expected = f.get_tensor("mask").bool()
            saved = f.metadata()["mask"]
        mine = masks.evaluate(tree, kind, image, document)
        assert torch.equal(mine, expected), (case, spec, text)
        assert torch.equal(masks.evaluate(masks.parse(saved), kind, image, document), expected), (case, saved)


def test_mask_json_round_trips_and_refuses_bad_input():
    text = '{"or":[{"causal":{}},{"same_image":{}}]}'
    assert masks.to_json(masks.parse(text)) == text
    for bad, words in [('{"causal":{"n":1}}', '"causal" takes an object with no fields'),
                       ('{"window":{"n":0}}', "\"window\"'s n must be an integer from 1"),
                       ('{"spiral":{}}', 'unknown kind "spiral"'),
                       ('{"and":[{"causal":{}}]}', '"and" takes a list of at least two masks'),
                       ('{"not":' * 101 + '{"causal":{}}' + '}' * 101, "nested too deeply"),
                       ("causal | same_image", "only the JSON encoding is read")]:
        try:
            masks.parse(bad)
        except masks.CheckpointError as e:
            assert words in str(e), (bad[:40], str(e))
        else:
            raise AssertionError(f"{bad[:40]} was accepted")
