"""The Transfusion training step of `tfs bench --transfusion`, in PyTorch eager or with the forward
pass and loss compiled by torch.compile (inductor, CPU), for comparison on the same machine in
the same run (scripts/bench-pytorch runs all three).

The same model as tfs's: Llama-style (RMSNorm, SwiGLU with hidden = 8·dim/3 rounded up to 32,
RoPE, no biases), a linear patch encoder with the timestep embedding added to each patch, a
causal | same_image mask, L = L_LM + 5·L_diffusion, AdamW. Rows of 128 positions: BOS, 47 text
tokens, BOI, 64 patches of 4 values, EOI, 12 text tokens, EOS, one PAD.

    python bench/pytorch_step.py [--threads 2] [--steps 10] [--mlp swiglu|gelu] [--compile]

With --compile the forward pass and the loss are one `torch.compile`d function (inductor
generates C++ for the CPU, so a C++ compiler must be on PATH); AOTAutograd compiles the
backward from it. The optimizer step stays eager. Compilation happens in the warm-up steps
(three with --compile, two without), which are not timed.

Prints one Markdown row per model: ms per step (median) and tokens per second. With
--cpu-time the step runs on one thread and is timed by the thread's CPU time (best of the
steps), as `tfs bench --transfusion --cpu-time` times tfs's: a comparison a busy machine barely
disturbs.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

VOCAB, LENGTH, PATCH, TIME_FEATURES = 261, 128, 4, 64
BOS, EOS, BOI, EOI, PAD = 256, 257, 258, 259, 260


def layout():
    """Token ids, whether each position is a patch, image ids (-1 off images), LM targets."""
    tokens = [BOS] + [97] * 47 + [BOI] + [PAD] * 64 + [EOI] + [98] * 12 + [EOS] + [PAD]
    is_patch = [0] * 49 + [1] * 64 + [0] * 15
    image = [-1] * 48 + [0] * 66 + [-1] * 14        # BOI, patches, EOI form the image
    targets = []
    for i in range(LENGTH):
        nxt = tokens[i + 1] if i + 1 < LENGTH - 1 else None
        takes = not is_patch[i] and tokens[i] != BOI and nxt is not None and not is_patch[i + 1]
        targets.append(nxt if takes else -1)
    return tokens, is_patch, image, targets


def mask(image):
    n = len(image)
    m = torch.zeros(n, n, dtype=torch.bool)
    for q in range(n):
        for k in range(n):
            m[q, k] = k <= q or (image[q] >= 0 and image[q] == image[k])
    m[-1, :] = False
    m[-1, -1] = True                                  # the PAD sees only itself
    return m


class Model(torch.nn.Module):
    def __init__(self, dim, layers, heads, mlp):
        super().__init__()
        hidden = (8 * dim // 3 + 31) // 32 * 32 if mlp == "swiglu" else 4 * dim
        self.dim, self.heads, self.mlp = dim, heads, mlp
        P = lambda *s: torch.nn.Parameter(torch.randn(*s) * 0.02)
        self.embed, self.time1, self.time2, self.patch_in = P(VOCAB, dim), P(TIME_FEATURES, dim), P(dim, PATCH), P(PATCH, dim)
        self.blocks = torch.nn.ModuleList()
        for _ in range(layers):
            b = torch.nn.Module()
            b.wq, b.wk, b.wv, b.wo = P(dim, dim), P(dim, dim), P(dim, dim), P(dim, dim)
            b.n1, b.n2 = torch.nn.Parameter(torch.ones(dim)), torch.nn.Parameter(torch.ones(dim))
            b.up, b.down = P(dim, hidden), P(hidden, dim)
            b.gate = P(dim, hidden) if mlp == "swiglu" else None
            self.blocks.append(b)
        self.final, self.head, self.patch_out = torch.nn.Parameter(torch.ones(dim)), P(dim, VOCAB), P(dim, PATCH)

    @staticmethod
    def norm(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w

    def forward(self, tokens, patches, is_patch, time, cos, sin, attn_mask):
        b, t = tokens.shape
        h_tok = self.embed[tokens]
        h_img = (patches + F.silu(time @ self.time1) @ self.time2) @ self.patch_in
        h = torch.where(is_patch, h_img, h_tok)
        hd = self.dim // self.heads

        def rope(v):
            half = hd // 2
            return v * cos + torch.cat([-v[..., half:], v[..., :half]], -1) * sin

        for blk in self.blocks:
            n = self.norm(h, blk.n1)
            q, k, v = [(n @ w).view(b, t, self.heads, hd).transpose(1, 2) for w in (blk.wq, blk.wk, blk.wv)]
            o = F.scaled_dot_product_attention(rope(q), rope(k), v, attn_mask=attn_mask)
            h = h + o.transpose(1, 2).reshape(b, t, self.dim) @ blk.wo
            n = self.norm(h, blk.n2)
            inner = F.silu(n @ blk.gate) * (n @ blk.up) if self.mlp == "swiglu" else F.gelu(n @ blk.up)
            h = h + inner @ blk.down
        h = self.norm(h, self.final)
        return h @ self.head, h @ self.patch_out


def problem(dim, layers, batch, mlp, compiled):
    """The model and a function returning the step's loss (compiled when `compiled`)."""
    torch.manual_seed(0)
    model = Model(dim, layers, dim // 32, mlp)
    tokens, is_patch, image, targets = layout()
    tok = torch.tensor([tokens] * batch)
    tgt = torch.tensor([targets] * batch)
    ip = torch.tensor([is_patch] * batch, dtype=torch.bool).unsqueeze(-1)
    patches, noise = torch.randn(batch, LENGTH, PATCH) * ip, torch.randn(batch, LENGTH, PATCH)
    time_ = torch.randn(batch, LENGTH, TIME_FEATURES) * ip
    hd = dim // (dim // 32)
    pos = torch.arange(LENGTH).float().unsqueeze(1)
    freq = torch.pow(10000.0, -torch.arange(hd // 2).float() / (hd // 2))
    angles = torch.cat([pos * freq, pos * freq], -1)
    cos, sin = angles.cos(), angles.sin()
    m = mask(image)

    def forward_loss():
        logits, pred = model(tok, patches, ip, time_, cos, sin, m)
        lm = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=-1)
        diffusion = ((pred - noise) ** 2 * ip).sum() / (ip.sum() * PATCH)
        return lm + 5 * diffusion

    return model, (torch.compile(forward_loss) if compiled else forward_loss)


def bench(dim, layers, batch, steps, mlp, compiled, cpu_time=False):
    model, loss_of = problem(dim, layers, batch, mlp, compiled)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)

    def step():
        loss = loss_of()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3 if compiled else 2):
        step()
    clock = time.thread_time if cpu_time else time.perf_counter
    times = []
    for _ in range(steps):
        start = clock()
        step()
        times.append(clock() - start)
    ms = (min(times) if cpu_time else statistics.median(times)) * 1e3
    params = sum(p.numel() for p in model.parameters())
    return ms, batch * LENGTH / (ms / 1e3), params


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--mlp", choices=["swiglu", "gelu"], default="swiglu")
    ap.add_argument("--cpu-time", action="store_true", help="one thread, timed by the thread's CPU time (best of the steps)")
    ap.add_argument("--compile", action="store_true", help="forward and loss through torch.compile (inductor)")
    ap.add_argument("--models", default="128x4x16,256x6x16,512x8x8", help="dim x layers x batch, comma-separated")
    args = ap.parse_args()
    if args.cpu_time:
        args.threads = 1
    torch.set_num_threads(args.threads)
    mode = "torch.compile (inductor)" if args.compile else "eager"
    print(f"PyTorch {torch.__version__} {mode}, {torch.get_num_threads()} threads, {args.mlp} MLP")
    if args.cpu_time:
        print("thread CPU time, best of the steps")
    print("| model | batch | threads | ms/step | tokens/s | parameters |")
    print("|---|---|---|---|---|---|")
    for spec in args.models.split(","):
        dim, layers, batch = (int(x) for x in spec.split("x"))
        ms, tps, params = bench(dim, layers, batch, args.steps, args.mlp, args.compile, args.cpu_time)
        print(f"| dim {dim}, {layers} layers | {batch} | {args.threads} | {ms:.0f} | {tps:.0f} | {params / 1e6:.2f} M |", flush=True)


if __name__ == "__main__":
    main()
