"""A small PNG reader for image folders: 8-bit, non-interlaced, gray / RGB / palette / with
alpha (alpha is dropped, as tfs drops it). Pixels come back as float32 RGB in [0, 1]."""
from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def read(path: str) -> np.ndarray:
    """The image [height, width, 3] in [0, 1]."""
    data = open(path, "rb").read()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    pos, header, palette, idat = 8, None, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"{path}: only 8-bit non-interlaced PNGs are read here (bit depth {depth}, colour type {colour}, interlace {interlace})")
    n = CHANNELS[colour]
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    stride = width * n
    rows = _unfilter(raw.reshape(height, stride + 1), n, stride)
    pixels = rows.reshape(height, width, n)
    if colour == 3:
        pixels = palette[pixels[..., 0]]
    elif n <= 2:
        pixels = np.repeat(pixels[..., :1], 3, axis=2)
    return pixels[..., :3].astype(np.float32) / 255


def _unfilter(lines: np.ndarray, bpp: int, stride: int) -> np.ndarray:
    out = np.zeros((lines.shape[0], stride), np.int32)
    prior = np.zeros(stride, np.int32)
    for y, line in enumerate(lines):
        kind, x = int(line[0]), line[1:].astype(np.int32)
        row = out[y]
        if kind == 0:
            row[:] = x
        elif kind == 2:
            row[:] = (x + prior) & 255
        else:
            for i in range(stride):
                a = int(row[i - bpp]) if i >= bpp else 0
                b, c = int(prior[i]), (int(prior[i - bpp]) if i >= bpp else 0)
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                elif kind == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                else:
                    raise ValueError(f"unknown PNG filter {kind}")
                row[i] = (int(x[i]) + pred) & 255
        prior = row
    return out.astype(np.uint8)
