"""The data sources of a run file (what tfs's `export_run` writes, or what a user points it at):

    {"pairs": {"path": "x.safetensors"}}     pixels [n, side, side, channels] + captions (metadata)
    {"images": {"folder": "dir", "size": 16}}  a Hugging Face image folder (metadata.jsonl, PNGs)
    {"text": {"path": "corpus.jsonl"}}       a .jsonl ("text" per line) or .txt (blank-line separated)
    {"mixture": {"parts": [...], "weights": [...]}}

Items are ("pair", pixels [side, side, C], caption) or ("text", str), drawn uniformly at random."""
from __future__ import annotations

import json
import os
from typing import List

import numpy as np
import torch
from safetensors import safe_open

from . import png


class Pairs:
    def __init__(self, pixels: torch.Tensor, captions: List[str]):
        if pixels.shape[0] != len(captions) or pixels.shape[0] == 0:
            raise ValueError(f"{pixels.shape[0]} images and {len(captions)} captions")
        self.pixels, self.captions = pixels, captions
        self.side = pixels.shape[1]

    def draw(self, g: torch.Generator):
        i = int(torch.randint(0, len(self.captions), (), generator=g))
        return ("pair", self.pixels[i], self.captions[i])


class Texts:
    side = None

    def __init__(self, documents: List[str]):
        if not documents:
            raise ValueError("a text corpus with no documents")
        self.documents = documents

    def draw(self, g: torch.Generator):
        return ("text", self.documents[int(torch.randint(0, len(self.documents), (), generator=g))])


class Mixture:
    def __init__(self, parts, weights):
        total = float(sum(weights))
        self.parts, self.weights = parts, [w / total for w in weights]
        sides = {p.side for p in parts if p.side is not None}
        if len(sides) > 1:
            raise ValueError(f"a mixture's images must share one size, got {sorted(sides)}")
        self.side = next(iter(sides), None)

    def draw(self, g: torch.Generator):
        u, cumulative = float(torch.rand((), generator=g)), 0.0
        for part, w in zip(self.parts, self.weights):
            cumulative += w
            if u < cumulative:
                return part.draw(g)
        return self.parts[-1].draw(g)


def chunks(text: str, max_bytes: int) -> List[str]:
    """tfs's cut of a long text: at most max_bytes UTF-8 bytes, never inside a character, after
    the last space or line end of a piece's second half when there is one."""
    data, pieces, start = text.encode("utf-8"), [], 0
    while start < len(data):
        end = min(start + max_bytes, len(data))
        if end < len(data):
            while data[end] & 0xC0 == 0x80:
                end -= 1
            lo = min(start + max_bytes // 2, end)
            spaces = [i for i in range(lo, end) if data[i] in (0x20, 0x0A)]
            if spaces:
                end = spaces[-1] + 1
        pieces.append(data[start:end].decode("utf-8", errors="replace"))
        start = end
    return pieces


def read_texts(path: str) -> List[str]:
    if path.endswith(".jsonl"):
        docs = []
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            if line.strip():
                obj = json.loads(line)
                if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                    raise ValueError(f"{path}:{number}: each line must be an object with a \"text\" string")
                docs.append(obj["text"])
        return [d for d in docs if d.strip()]
    if path.endswith(".txt"):
        docs, current = [], []
        for line in open(path, encoding="utf-8").read().split("\n"):
            if line.strip():
                current.append(line)
            elif current:
                docs.append("\n".join(current))
                current = []
        if current:
            docs.append("\n".join(current))
        return docs
    raise ValueError(f"{path}: a text corpus is a .txt or .jsonl file")


def read_folder(folder: str, size: int) -> Pairs:
    images, captions = [], []
    for number, line in enumerate(open(os.path.join(folder, "metadata.jsonl"), encoding="utf-8"), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        if "edited_file_name" in obj:
            raise ValueError(f"{folder}/metadata.jsonl:{number}: edit triples are not trained by the PyTorch trainer")
        name = obj["file_name"]
        full = os.path.realpath(os.path.join(folder, name))
        if not full.startswith(os.path.realpath(folder) + os.sep):
            raise ValueError(f"{folder}/metadata.jsonl:{number}: {name} lies outside the folder")
        pixels = png.read(full)
        h, w, _ = pixels.shape
        if h != w or w % size:
            raise ValueError(f"{full} is {w}×{h}; images must be square, {size}×{size} or a multiple of it")
        k = w // size
        images.append(pixels.reshape(size, k, size, k, 3).mean(axis=(1, 3)) if k > 1 else pixels)
        captions.append(obj["text"])
    return Pairs(torch.from_numpy(np.stack(images)).float(), captions)


def load(spec, folder: str, length: int):
    """The dataset a run file's data spec describes (paths relative to `folder`), texts fitted
    to rows of `length` positions (BOS and EOS take two)."""
    (kind, body), = spec.items()
    if kind == "pairs":
        with safe_open(os.path.join(folder, body["path"]), "pt") as f:
            return Pairs(f.get_tensor("pixels"), json.loads(f.metadata()["captions"]))
    if kind == "images":
        return read_folder(os.path.join(folder, body["folder"]), body["size"])
    if kind == "text":
        documents = read_texts(os.path.join(folder, body["path"]))
        return Texts([piece for d in documents for piece in chunks(d, length - 2)])
    if kind == "mixture":
        return Mixture([load(p, folder, length) for p in body["parts"]], body["weights"])
    raise ValueError(f"the run file's data kind '{kind}' is not one of pairs, images, text, mixture")
