"""Generation with a KV cache (Sources/Transfusion/Generation): text token by token; at BOI an
image's patches start as noise and are denoised in place (the model sees the current step's
patches after the cached context), then the clean image and EOI are committed and text goes
on. Classifier-free guidance runs an unconditional companion whose context is BOS, BOI (for
images) or BOS and the text so far (for captions). Generation applies the model's mask to the
one sequence it writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import torch

from . import masks as mask_algebra
from .diffusion import rope_tables, timestep_features
from .model import Inputs
from .packing import BOI_KIND, EOI_KIND, PATCH, TEXT
from .recipe import patchify, unpatchify
from .samplers import Sampler
from .tokenizer import BOI, BOS, EOI, EOS, PAD, Tokenizer


@dataclass
class Position:
    token: int
    kind: int = TEXT
    image: int = -1
    patch: Optional[torch.Tensor] = None
    step: float = 0.0

    @staticmethod
    def of(token: int, image: int = -1):
        kind = BOI_KIND if token == BOI else EOI_KIND if token == EOI else TEXT
        return Position(token, kind, image if kind != TEXT else -1)


@dataclass
class Decoder:
    """One sequence: its committed positions and each layer's cached keys and values."""
    model: object
    rows: List[Position] = field(default_factory=list)
    keys: Optional[list] = None
    values: Optional[list] = None

    def step(self, pending: List[Position], commit: bool):
        """Runs `pending` after the committed positions: (logits at the last, predictions at the
        pending patches [n, patchSize])."""
        m, c = self.model, self.model.config
        start, n = len(self.rows), len(pending)
        every = self.rows + pending
        kind = torch.tensor([p.kind for p in every])
        image = torch.tensor([p.image for p in every])
        allowed = mask_algebra.evaluate(m.mask, kind, image, torch.zeros(len(every), dtype=torch.long))[start:]
        features = {}
        time = torch.stack([features.setdefault(p.step, timestep_features(p.step, c.time_features)) if p.patch is not None
                            else torch.zeros(c.time_features) for p in pending])
        cos, sin = rope_tables(torch.arange(start, start + n), c.head_dim)
        x = Inputs(tokens=torch.tensor([[p.token for p in pending]]),
                   is_patch=torch.tensor([[p.patch is not None for p in pending]]),
                   patches=torch.stack([p.patch if p.patch is not None else torch.zeros(c.patch_size) for p in pending])[None],
                   time=time[None], cos=cos[None], sin=sin[None], mask=allowed[None])
        cache = (self.keys, self.values) if self.keys is not None else None
        with torch.no_grad():
            f = m.forward(x, cache=cache)
            logits = m.token_logits(f.hidden)[0, -1]
            predictions = m.patch_prediction(f, x)[0][x.is_patch[0]]
        if commit:
            self.rows += pending
            if self.keys is None:
                self.keys, self.values = f.keys, f.values
            else:
                self.keys = [torch.cat([a, b], 2) for a, b in zip(self.keys, f.keys)]
                self.values = [torch.cat([a, b], 2) for a, b in zip(self.values, f.values)]
        return logits, predictions


@dataclass
class Options:
    max_tokens: int = 64
    max_images: int = 2
    sampler: Sampler = field(default_factory=Sampler)
    cfg: float = 1.0
    clip: bool = True
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0


class Generator:
    def __init__(self, model, options: Options = Options(), generator: Optional[torch.Generator] = None, vae=None):
        """`vae` (vae.load_vae) for a latent model: drawn latents are decoded to pixels, pixels to
        caption are encoded; without it a latent model's images are its latent grids."""
        self.model, self.options, self.vae = model, options, vae
        self.generator = generator or torch.Generator().manual_seed(0)
        self.tokenizer = Tokenizer(model.config.merges)
        c = model.config
        self.k, self.p = c.patches_per_image, c.patch_size
        options.sampler.validate(model.process)

    def tokens(self, text: str) -> List[Position]:
        return [Position.of(t) for t in self.tokenizer.encode(text)]

    # Images

    def images(self, captions: List[str], noise: Optional[torch.Tensor] = None) -> List[torch.Tensor]:
        """One image per caption [side, side, C] (pixels in [0, 1], or latents). `noise` [n, k·p],
        when given, is each image's starting noise."""
        out = []
        for i, caption in enumerate(captions):
            d = Decoder(self.model)
            d.step([Position.of(BOS)] + self.tokens(caption) + [Position.of(BOI, 0)], commit=True)
            start = noise[i] if noise is not None else None
            out.append(self.draw(d, 0, start)[0])
        return out

    def draw(self, d: Decoder, image: int, noise: Optional[torch.Tensor] = None):
        """Denoises one image after d's committed context (ending in BOI), commits it and EOI:
        (pixels, logits after EOI)."""
        c, o = self.model.config, self.options
        uncond = None
        if o.cfg != 1:
            uncond = Decoder(self.model)
            uncond.step([Position.of(BOS), Position.of(BOI, 0)], commit=True)
        x = noise.clone() if noise is not None else torch.randn(self.k * self.p, generator=self.generator)

        def denoise(values, t):
            block = [Position(PAD, PATCH, image, values[j * self.p:(j + 1) * self.p], t) for j in range(self.k)]
            _, cond = d.step(block, commit=False)
            if uncond is None:
                return cond.reshape(-1)
            _, free = uncond.step([Position(PAD, PATCH, 0, q.patch, t) for q in block], commit=False)
            free = free.reshape(-1)
            return free + torch.tensor(o.cfg, dtype=torch.float32) * (cond.reshape(-1) - free)
        x = o.sampler.run(x, self.model.process, denoise, clip=o.clip and not c.latent, generator=self.generator)
        clean = [Position(PAD, PATCH, image, x[j * self.p:(j + 1) * self.p], 0.0) for j in range(self.k)]
        logits, _ = d.step(clean + [Position.of(EOI, image)], commit=True)
        grid = unpatchify(x.reshape(self.k, self.p), c.image_side, c.patch_side, c.channels, not c.latent)
        return (self.vae.decode(grid[None])[0] if c.latent and self.vae else grid), logits

    # Text

    def pick(self, logits: torch.Tensor, allowed: torch.Tensor) -> int:
        o = self.options
        scores = logits.double().masked_fill(~allowed, float("-inf"))
        if o.temperature <= 0:
            return int(scores.argmax())
        order = scores.argsort(descending=True)
        order = order[allowed[order]]
        if o.top_k > 0:
            order = order[:o.top_k]
        w = torch.softmax((scores[order] - scores[order[0]]) / o.temperature, 0)
        if o.top_p < 1:
            keep = int((w.cumsum(0) < o.top_p).sum()) + 1
            order, w = order[:keep], w[:keep]
        return int(order[torch.multinomial(w.float(), 1, generator=self.generator)])

    def allowed(self, images_allowed: bool) -> torch.Tensor:
        v = self.model.config.vocabulary
        ok = torch.zeros(v, dtype=torch.bool)
        ok[:256] = True
        ok[261:] = True
        ok[EOS] = True
        ok[BOI] = images_allowed
        return ok

    def captions(self, images: List[torch.Tensor]) -> List[str]:
        """A caption per image [side, side, C]: BOS, the clean image, then text until EOS."""
        c, o = self.model.config, self.options
        out = []
        for pixels in images:
            d = Decoder(self.model)
            if c.latent and self.vae:
                pixels = self.vae.encode(pixels[None])[0]
            patches = patchify(pixels, c.patch_side, not c.latent)
            prompt = ([Position.of(BOS), Position.of(BOI, 0)] + [Position(PAD, PATCH, 0, q, 0.0) for q in patches]
                      + [Position.of(EOI, 0)])
            logits, _ = d.step(prompt, commit=True)
            uncond, free = None, None
            if o.cfg != 1:
                uncond = Decoder(self.model)
                free, _ = uncond.step([Position.of(BOS)], commit=True)
            text = []
            while len(text) < o.max_tokens + 1:
                scores = logits if uncond is None else free + torch.tensor(o.cfg, dtype=torch.float32) * (logits - free)
                token = self.pick(scores, self.allowed(False))
                if token == EOS or len(text) == o.max_tokens:
                    break
                text.append(token)
                logits, _ = d.step([Position.of(token)], commit=True)
                if uncond is not None:
                    free, _ = uncond.step([Position.of(token)], commit=True)
            out.append(self.tokenizer.decode(text))
        return out

    def generate(self, prompt: str):
        """Continues a prompt with text and images until EOS or the limits: a list of str and
        image tensors, in order."""
        o = self.options
        d = Decoder(self.model)
        logits, _ = d.step([Position.of(BOS)] + self.tokens(prompt), commit=True)
        pieces, text, images, produced = [], [], 0, 0
        while True:
            token = self.pick(logits, self.allowed(images < o.max_images))
            produced += 1
            if token == EOS or produced > o.max_tokens:
                break
            if token == BOI:
                if text:
                    pieces.append(self.tokenizer.decode(text))
                    text = []
                d.step([Position.of(BOI, images)], commit=True)
                pixels, logits = self.draw(d, images)
                pieces.append(pixels)
                images += 1
                continue
            text.append(token)
            logits, _ = d.step([Position.of(token)], commit=True)
        if text:
            pieces.append(self.tokenizer.decode(text))
        return pieces
