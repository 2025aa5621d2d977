"""tfs's tokenizer (Sources/Transfusion/Data/Tokenizer.swift): UTF-8 bytes 0–255, the specials
BOS, EOS, BOI, EOI, PAD (256–260), then a byte-level BPE vocabulary's merges (261 on), applied
inside chunks (runs of letters, digits, other symbols, each with the one space before it, and
runs of white space), the earliest-learned merge first."""
from __future__ import annotations

from typing import List, Sequence, Tuple

BOS, EOS, BOI, EOI, PAD = 256, 257, 258, 259, 260
FIRST_MERGE = 261
NAMES = {BOS: "<bos>", EOS: "<eos>", BOI: "<boi>", EOI: "<eoi>", PAD: "<pad>"}


def _kind(b: int) -> str:
    if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A or b >= 0x80:
        return "letter"
    if 0x30 <= b <= 0x39:
        return "digit"
    if b == 0x20 or 0x09 <= b <= 0x0D:
        return "space"
    return "other"


def chunks(data: bytes) -> List[Tuple[int, int]]:
    out, i = [], 0
    while i < len(data):
        start = i
        if data[i] == 0x20 and i + 1 < len(data) and _kind(data[i + 1]) != "space":
            i += 1
        k = _kind(data[i])
        while i < len(data) and _kind(data[i]) == k:
            i += 1
        if k == "space" and i < len(data) and i - start > 1 and data[i - 1] == 0x20:
            i -= 1
        out.append((start, i))
    return out


class Tokenizer:
    def __init__(self, merges: Sequence[Tuple[int, int]] = ()):
        self.merges = [tuple(m) for m in merges]
        self.merged_id = {m: FIRST_MERGE + k for k, m in enumerate(self.merges)}
        self.spellings: List[bytes] = []
        for left, right in self.merges:
            self.spellings.append(self.spelling(left) + self.spelling(right))

    @property
    def vocabulary_size(self) -> int:
        return FIRST_MERGE + len(self.merges)

    def spelling(self, token: int) -> bytes:
        if 0 <= token < 256:
            return bytes([token])
        if FIRST_MERGE <= token < FIRST_MERGE + len(self.spellings):
            return self.spellings[token - FIRST_MERGE]
        return b""

    def encode(self, text: str) -> List[int]:
        data = text.encode("utf-8")
        if not self.merges:
            return list(data)
        out: List[int] = []
        for start, end in chunks(data):
            out += self._merged(list(data[start:end]))
        return out

    def _merged(self, tokens: List[int]) -> List[int]:
        while len(tokens) >= 2:
            first = min((self.merged_id.get((a, b), 1 << 62) for a, b in zip(tokens, tokens[1:])), default=1 << 62)
            if first == 1 << 62:
                break
            pair = self.merges[first - FIRST_MERGE]
            out, i = [], 0
            while i < len(tokens):
                if i + 1 < len(tokens) and (tokens[i], tokens[i + 1]) == pair:
                    out.append(first)
                    i += 2
                else:
                    out.append(tokens[i])
                    i += 1
            tokens = out
        return tokens

    def decode(self, ids: Sequence[int]) -> str:
        out, pending = "", b""
        for i in ids:
            s = self.spelling(i) if (0 <= i < 256 or i >= FIRST_MERGE) else b""
            if s:
                pending += s
                continue
            out += pending.decode("utf-8", errors="replace")
            pending = b""
            out += NAMES.get(i, f"<{i}>")
        return out + pending.decode("utf-8", errors="replace")
