"""bench/pytorch_step.py's compiled step computes what its eager step computes: the same loss
and the same gradients (torch.compile with inductor on the CPU), so the benchmark compares
tfs with the same model either way."""
import importlib.util
from pathlib import Path

import pytest
import torch

spec = importlib.util.spec_from_file_location("pytorch_step", Path(__file__).resolve().parents[2] / "bench" / "pytorch_step.py")
pytorch_step = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pytorch_step)


def loss_and_grads(compiled):
    model, loss_of = pytorch_step.problem(dim=64, layers=1, batch=2, mlp="swiglu", compiled=compiled)
    loss = loss_of()
    loss.backward()
    return loss.item(), [p.grad.clone() for p in model.parameters()]


def test_compiled_step_matches_eager():
    eager_loss, eager_grads = loss_and_grads(False)
    compiled_loss, compiled_grads = loss_and_grads(True)
    assert compiled_loss == pytest.approx(eager_loss, rel=1e-5)
    assert len(compiled_grads) == len(eager_grads)
    for e, c in zip(eager_grads, compiled_grads):
        torch.testing.assert_close(c, e, rtol=1e-4, atol=1e-6)
