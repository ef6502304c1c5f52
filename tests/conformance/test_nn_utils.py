"""torch.nn.utils against tinygrad_edu.nn.utils: clip_grad_norm_ (generators, lists, a
single tensor, every norm type; inside a training loop), clip_grad_value_, get_total_norm,
parameters_to_vector / vector_to_parameters."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.optim as goptim

from .nn_helpers import (
    assert_grads_close,
    assert_params_close,
    loss_and_backward,
    make_models,
    randn,
)
from .oracle import assert_close


def with_grads() -> tuple[Any, Any]:
    ours, theirs = make_models()
    loss_and_backward(ours, "ours", 0)
    loss_and_backward(theirs, "torch", 0)
    for m in (ours, theirs):  # make the gradients large enough to be clipped
        for p in m.parameters():
            p.grad = p.grad * 10
    return ours, theirs


@pytest.mark.parametrize("spelling", ["generator", "list", "single tensor"])
@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (0.5, 1.0), (0.1, float("inf")),
                                                (2.0, 3), (1e6, 2.0)])
def test_clip_grad_norm_(spelling: str, max_norm: float, norm_type: float) -> None:
    ours, theirs = with_grads()

    def params(m: Any) -> Any:
        if spelling == "generator":
            return m.parameters()
        if spelling == "list":
            return list(m.parameters())
        return m[0].weight

    no = gnn.utils.clip_grad_norm_(params(ours), max_norm, norm_type=norm_type)
    nt = tnn.utils.clip_grad_norm_(params(theirs), max_norm, norm_type=norm_type)
    assert_close(no, nt, what="returned total norm")
    assert_grads_close(ours, theirs, what=f"clipped ({spelling})")


def test_clip_grad_norm_positional_in_training_loop() -> None:
    ours, theirs = make_models()
    opt_o = goptim.SGD(ours.parameters(), lr=0.5, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.5, momentum=0.9)
    for step in range(20):
        opt_o.zero_grad()
        opt_t.zero_grad()
        loss_and_backward(ours, "ours", step)
        loss_and_backward(theirs, "torch", step)
        no = gnn.utils.clip_grad_norm_(ours.parameters(), 0.3)
        nt = tnn.utils.clip_grad_norm_(theirs.parameters(), 0.3)
        assert_close(no, nt, what=f"norm at step {step}")
        opt_o.step()
        opt_t.step()
        assert_params_close(ours, theirs, what=f"clipped training step {step}")


@pytest.mark.parametrize("spelling", ["generator", "list"])
def test_clip_grad_value_(spelling: str) -> None:
    ours, theirs = with_grads()
    po = ours.parameters() if spelling == "generator" else list(ours.parameters())
    pt = theirs.parameters() if spelling == "generator" else list(theirs.parameters())
    assert gnn.utils.clip_grad_value_(po, 0.05) is None
    assert tnn.utils.clip_grad_value_(pt, clip_value=0.05) is None
    assert_grads_close(ours, theirs, what="clip_grad_value_")


def test_get_total_norm() -> None:
    ours, theirs = with_grads()
    for norm_type in (2.0, 1.0, float("inf")):
        assert_close(gnn.utils.get_total_norm([p.grad for p in ours.parameters()], norm_type),
                     tnn.utils.get_total_norm([p.grad for p in theirs.parameters()], norm_type),
                     what=f"get_total_norm {norm_type}")


def test_parameters_to_vector_and_back() -> None:
    ours, theirs = make_models()
    vo = gnn.utils.parameters_to_vector(ours.parameters())
    vt = tnn.utils.parameters_to_vector(theirs.parameters())
    assert_close(vo, vt.detach(), what="parameters_to_vector")
    new = randn(vt.numel(), seed=5)
    gnn.utils.vector_to_parameters(tg.tensor(new.copy()), ours.parameters())
    tnn.utils.vector_to_parameters(torch.tensor(new.copy()), theirs.parameters())
    assert_params_close(ours, theirs, what="vector_to_parameters")
