"""Packing examples into fixed-length rows (Sources/Transfusion/Data/Packing.swift).

An example is a list of segments — ("text", str), ("image", patch count) or ("tokens", ids).
Each example is BOS, its segments (an image as BOI, its patches, EOI), EOS, placed whole and in
order; a row is padded when the next example does not fit. Per position: the token (PAD at
patches), the LM target (−1 at patches, at BOI, before a patch, before padding and at an
example's last position), the RoPE position (from 0 in each example) and the layout (kind,
image index in the row, document = example in the row; padding is one more document)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple

from .masks import KINDS
from .tokenizer import BOI, BOS, EOI, EOS, PAD, Tokenizer

TEXT, BOI_KIND, PATCH, EOI_KIND, PAD_KIND = range(5)
assert KINDS == ("text", "boi", "patch", "eoi", "pad")


@dataclass
class Row:
    tokens: List[int] = field(default_factory=list)
    targets: List[int] = field(default_factory=list)
    positions: List[int] = field(default_factory=list)
    kind: List[int] = field(default_factory=list)
    image: List[int] = field(default_factory=list)
    document: List[int] = field(default_factory=list)
    # Per image of the row, in order: (example index, image index in the example).
    images: List[Tuple[int, int]] = field(default_factory=list)

    def __len__(self):
        return len(self.tokens)


class Packer:
    def __init__(self, length: int, tokenizer: Tokenizer = Tokenizer()):
        self.length, self.tokenizer = length, tokenizer

    def flatten(self, example) -> List[Tuple[int, int]]:
        """(token, kind) of one example."""
        out = [(BOS, TEXT)]
        for kind, value in example:
            if kind == "text":
                out += [(t, TEXT) for t in self.tokenizer.encode(value)]
            elif kind == "tokens":
                out += [(t, TEXT) for t in value]
            elif kind == "image":
                out += [(BOI, BOI_KIND)] + [(PAD, PATCH)] * value + [(EOI, EOI_KIND)]
            else:
                raise ValueError(f"unknown segment kind {kind!r}")
        return out + [(EOS, TEXT)]

    def pack(self, examples) -> List[Row]:
        rows, current = [], Row()
        for index, example in enumerate(examples):
            flat = self.flatten(example)
            if len(flat) > self.length:
                raise ValueError(f"example {index} needs {len(flat)} positions, more than the sequence length {self.length}")
            if len(current) + len(flat) > self.length:
                rows.append(self._padded(current))
                current = Row()
            self._append(flat, index, current)
        if len(current):
            rows.append(self._padded(current))
        return rows

    def _append(self, flat, index, row: Row):
        document = row.document[-1] + 1 if row.document else 0
        image, in_example = (max(row.image) + 1 if row.image else 0), 0
        for j, (token, kind) in enumerate(flat):
            row.tokens.append(token)
            row.positions.append(j)
            row.kind.append(kind)
            row.document.append(document)
            row.image.append(image if kind in (BOI_KIND, PATCH, EOI_KIND) else -1)
            if kind == BOI_KIND:
                row.images.append((index, in_example))
                in_example += 1
            if kind == EOI_KIND:
                image += 1
            following = flat[j + 1] if j + 1 < len(flat) else None
            takes = kind not in (PATCH, BOI_KIND) and following is not None and following[1] != PATCH
            row.targets.append(following[0] if takes else -1)

    def _padded(self, row: Row) -> Row:
        n = self.length - len(row)
        document = row.document[-1] + 1 if row.document else 0
        row.tokens += [PAD] * n
        row.targets += [-1] * n
        row.positions += [0] * n
        row.kind += [PAD_KIND] * n
        row.image += [-1] * n
        row.document += [document] * n
        return row
