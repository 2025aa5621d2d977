"""`python -m tfs_torch.train RUN.json`: trains a tfs run file's model with its recipe, on any
device, alone or under `torchrun --nproc_per_node=N` with DistributedDataParallel (gloo on CPU,
NCCL on GPUs). Every process draws the same global batch from one seeded generator and trains on
its share of the rows; each loss is normalised by the global batch's counts, so N processes take
the steps one process would. Rank 0 writes tfs checkpoints every `save_every` steps
(NAME.step-00000500.safetensors, keeping the newest `keep`) and at the end."""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist

from . import checkpoint as checkpoints
from . import datasets, masks
from . import model as model_module
from .errors import CheckpointError
from .optim import AdamW
from .recipe import draw_batch
from .run import read
from .schedules import rate


def series_path(path: str, step: int) -> str:
    stem = path[: -len(".safetensors")] if path.endswith(".safetensors") else path
    return f"{stem}.step-{step:08d}.safetensors"


def prune(path: str, keep: int):
    stem = path[: -len(".safetensors")] if path.endswith(".safetensors") else path
    for old in sorted(glob.glob(glob.escape(stem) + ".step-*.safetensors"))[:-keep]:
        os.remove(old)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfs_torch.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="the run file (export_run in a tfs script writes it)")
    parser.add_argument("--device", default=None, help="cpu, cuda, … (default: cuda when available, else cpu)")
    parser.add_argument("--steps", type=int, default=None, help="override the run file's steps")
    parser.add_argument("--checkpoint", default=None, help="override where the checkpoint is written")
    parser.add_argument("--losses", default=None, help="write each step's losses here as JSON lines (rank 0)")
    parser.add_argument("--attention", choices=["dense", "flex"], default="dense",
                        help="dense boolean masks (scaled_dot_product_attention), or FlexAttention block masks (compiled on GPUs)")
    parser.add_argument("--bf16", action="store_true",
                        help="compute the forward and backward passes under bfloat16 autocast (weights and AdamW stay float32)")
    parser.add_argument("--resume", default=None,
                        help="continue from a checkpoint this trainer wrote: weights, AdamW moments, step counts and the data generator")
    parser.add_argument("--every", type=int, default=0, help="print the losses every N steps (default: a tenth of the run)")
    args = parser.parse_args(argv)

    run = read(args.run)
    steps = args.steps or run.steps
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if run.batch % world:
        raise SystemExit(f"the batch {run.batch} must split evenly over {world} processes")
    share = run.batch // world

    model = checkpoints.load(run.path(run.init)).to(device)
    if args.attention == "flex" and device.type == "cuda":
        model_module.flex_attention = torch.compile(model_module.flex_attention)
    data = datasets.load(run.data, run.folder, run.length)
    if data.side is not None and data.side != model.config.image_side:
        raise SystemExit(f"the data's images are {data.side}×{data.side}; the model draws {model.config.image_side}×{model.config.image_side}")
    net = Losses(model)
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(net, find_unused_parameters=model.config.encoder == "unet")
    a = run.adamw
    optimizer = AdamW(model.weights().items(), a["beta1"], a["beta2"], a["eps"], a["weight_decay"], run.clip)
    generator = torch.Generator().manual_seed(run.seed)
    start_step, skipped = 0, 0
    if args.resume:
        start_step, skipped = resume(args.resume, model, optimizer, generator)
        if rank == 0:
            print(f"resuming from {args.resume} at step {start_step}", flush=True)
    out = args.checkpoint or (run.path(run.checkpoint) if run.checkpoint else None)
    log = open(args.losses, "w") if args.losses and rank == 0 else None
    every = args.every or max(1, steps // 10)

    def save(path):
        checkpoints.save(model, path, optimizer.moments(), step=step + 1, optimizer_steps=optimizer.steps,
                         skipped_steps=skipped, rng=(run.seed + 1, step + 1, 0, 1), extra={GENERATOR: generator.get_state()})

    start, step = time.time(), start_step - 1
    for step in range(start_step, steps):
        batch = draw_batch(model, data, run.batch, run.length, run.policy, generator)
        counts = (float((batch.targets != -1).sum()), float(batch.learned.sum()) * model.config.patch_size)
        mine = slice(rank * share, (rank + 1) * share)
        part = batch.slice(mine).to(device)
        if args.attention == "flex":
            part.inputs.block_mask = masks.block_mask(masks.training_mask(model.mask), *part.layout)
        net.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            total, lm, diffusion = model_losses(net, part, run, counts)
        (total * world).backward()
        parts = torch.stack([total.detach(), lm.detach(), diffusion.detach()]).double().cpu()
        if world > 1:
            dist.all_reduce(parts)
        total_v, lm_v, diffusion_v = (float(x) for x in parts)
        lr = rate(run.lr, step, steps)
        finite = all(math.isfinite(x) for x in (total_v, lm_v, diffusion_v))
        norm = optimizer.step(lr) if finite else float("nan")
        if not (finite and math.isfinite(norm)):
            if run.on_nonfinite != "skip":
                raise SystemExit(f"the run diverged at step {step + 1}: loss {total_v} (LM {lm_v}, diffusion {diffusion_v}), "
                                 f"gradient norm {norm}; the weights after step {step} are unchanged")
            skipped += 1
        if rank == 0:
            if log:
                log.write(json.dumps({"step": step, "loss": total_v, "lm": lm_v, "diffusion": diffusion_v, "lr": lr}) + "\n")
                log.flush()
            if (step + 1) % every == 0 or step + 1 == steps:
                print(f"step {step + 1:6d}/{steps}  loss {total_v:.4f} (LM {lm_v:.4f}, diffusion {diffusion_v:.4f})  "
                      f"{(time.time() - start) / (step + 1 - start_step) * 1e3:.0f} ms/step", flush=True)
            if out and run.save_every and (step + 1) % run.save_every == 0:
                save(series_path(out, step + 1))
                prune(out, run.keep)
    if rank == 0 and out:
        save(out)
        print(f"checkpoint written to {out}")
    if log:
        log.close()
    if world > 1:
        # Every rank leaves together: a rank that tears gloo down while another still writes its
        # checkpoint can abort in gloo's threads ("terminate called without an active exception").
        dist.barrier()
        del net   # DDP's reducer holds gloo work: released before the group goes
        dist.destroy_process_group()
        # Even then the interpreter's exit can destroy a gloo thread that is still joinable and
        # abort a rank after its work is done (seen once in about ten CI runs): every result is
        # written, so leave without running the C++ destructors.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


GENERATOR = "tfs_torch.generator"   # the data generator's state, in the trainer's checkpoints


def resume(path, model, optimizer, generator):
    """Loads a checkpoint this trainer wrote into the model, AdamW and the data generator:
    (step, skipped steps)."""
    _, _, tensors, meta = checkpoints.read(path)
    if GENERATOR not in tensors:
        raise CheckpointError(f"{path} has no '{GENERATOR}' tensor: only checkpoints of python -m tfs_torch.train resume here "
                              "(a tfs checkpoint starts a run as its init)")
    with torch.no_grad():
        for name, p in model.weights().items():
            if name not in tensors or tensors[name].shape != p.shape:
                raise CheckpointError(f"{path}: tensor '{name}' is missing or not {list(p.shape)}")
            p.copy_(tensors[name])
    try:
        optimizer.restore({k: v.to(next(model.parameters()).device) for k, v in tensors.items() if k.startswith("optimizer.")},
                          int(meta["optimizer_steps"]))
    except KeyError as e:
        raise CheckpointError(f"{path}: {e.args[0]}") from None
    generator.set_state(tensors[GENERATOR])
    return int(meta["step"]), int(meta.get("skipped_steps", "0"))


class Losses(torch.nn.Module):
    """The model's losses as a module's forward, what DistributedDataParallel wraps."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *args):
        return self.model.losses(*args)


def model_losses(net, batch, run, counts):
    """The losses through the (possibly DistributedDataParallel) module, so DDP sees the forward."""
    return net(batch.inputs, batch.targets, batch.noise, batch.learned, run.lm_weight, run.diffusion_weight, counts)


if __name__ == "__main__":
    try:
        main()
    except CheckpointError as e:
        sys.exit(f"tfs_torch.train: {e}")
