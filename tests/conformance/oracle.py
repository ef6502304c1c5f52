"""Comparing tinygrad_edu with PyTorch: values, dtypes, shapes, gradients, second
derivatives. Every conformance module goes through these helpers, so the tolerances live
in one place: float64 rtol 1e-7 with an atol scaled to the values' magnitude (random programs
cancel), float32 rtol 1e-5; integers and bools exactly; NaN where PyTorch has NaN."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import tinygrad_edu as tg

TORCH_DTYPES = {
    np.dtype(np.float32): torch.float32,
    np.dtype(np.float64): torch.float64,
    np.dtype(np.float16): torch.float16,
    np.dtype(np.int64): torch.int64,
    np.dtype(np.int32): torch.int32,
    np.dtype(np.int16): torch.int16,
    np.dtype(np.int8): torch.int8,
    np.dtype(np.uint8): torch.uint8,
    np.dtype(np.bool_): torch.bool,
}
NUMPY_DTYPES = {v: k for k, v in TORCH_DTYPES.items()}


def tol(dtype: Any) -> tuple[float, float]:
    """(rtol, atol relative to the magnitude) for a dtype."""
    dt = np.dtype(dtype)
    if dt == np.float64:
        return 1e-7, 1e-7
    if dt == np.float32:
        return 1e-5, 1e-5
    if dt == np.float16:
        return 1e-2, 1e-2
    return 0.0, 0.0


def as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, tg.Tensor):
        return np.array(x.detach().numpy(), copy=True)
    return np.asarray(x)


def assert_close(ours: Any, theirs: Any, *, what: str = "value", check_dtype: bool = True,
                 rtol: float | None = None, atol: float | None = None) -> None:
    """ours (a Tensor, array or number) equals theirs (a torch.Tensor or number)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tg.Tensor), f"{what}: expected a Tensor, got {type(ours)}"
        if check_dtype:
            assert ours.dtype == NUMPY_DTYPES[theirs.dtype], (
                f"{what}: dtype {ours.dtype} but PyTorch gives {theirs.dtype}")
    a, b = as_numpy(ours), as_numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} but PyTorch gives {b.shape}"
    if b.dtype.kind in "biu" and a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    r, s = tol(b.dtype if b.dtype.kind == "f" else a.dtype)
    r = r if rtol is None else rtol
    finite = np.abs(b[np.isfinite(b)]) if b.size else np.zeros(0)
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    s = s * scale if atol is None else atol
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=r, atol=s,
                               equal_nan=True, err_msg=what)


def exact(ours: Any, theirs: torch.Tensor, what: str = "value") -> None:
    """Same dtype, shape and bit-for-bit values (NaN where PyTorch has NaN)."""
    assert_close(ours, theirs, what=what, rtol=0.0, atol=0.0)


def same_dtype(ours: Any, theirs: torch.Tensor) -> None:
    assert isinstance(ours, tg.Tensor), f"expected a Tensor, got {type(ours)}"
    assert ours.dtype == NUMPY_DTYPES[theirs.dtype], (
        f"dtype {ours.dtype} but PyTorch gives {theirs.dtype}")


def pair(x: np.ndarray, requires_grad: bool = False) -> tuple[tg.Tensor, torch.Tensor]:
    """The same array as a tinygrad_edu Tensor and a torch tensor (separate memory)."""
    ours = tg.tensor(np.array(x, copy=True), requires_grad=requires_grad)
    theirs = torch.tensor(np.array(x, copy=True), requires_grad=requires_grad)
    return ours, theirs


def check_function(f_ours: Callable[..., Any], f_torch: Callable[..., Any],
                   arrays: Sequence[np.ndarray], *, grad: bool = True, second: bool = True,
                   seed: int = 0, what: str = "") -> None:
    """f on both libraries: the value; with `grad`, the gradient of every float input under a
    random upstream gradient; with `second`, the derivative of <gradient, v> (float64)."""
    rng = np.random.default_rng(seed)
    floats = [np.asarray(a).dtype.kind == "f" for a in arrays]
    ours_in, torch_in = zip(*[pair(a, requires_grad=grad and fl)
                              for a, fl in zip(arrays, floats)]) if arrays else ((), ())
    y_ours, y_torch = f_ours(*ours_in), f_torch(*torch_in)
    assert_close(y_ours, y_torch, what=f"{what} value")
    if not grad or not any(floats) or not y_torch.requires_grad:
        return
    up = rng.standard_normal(tuple(y_torch.shape))
    g_torch = torch.autograd.grad(y_torch, [t for t, fl in zip(torch_in, floats) if fl],
                                  torch.tensor(up, dtype=y_torch.dtype), create_graph=second,
                                  allow_unused=True)
    g_ours = tg.grad(y_ours, [t for t, fl in zip(ours_in, floats) if fl],
                     tg.tensor(up, dtype=y_ours.dtype), create_graph=second, allow_unused=True)
    for i, (go, gt) in enumerate(zip(g_ours, g_torch)):
        if gt is None:
            assert go is None or np.all(as_numpy(go) == 0), f"{what}: grad {i} should be None"
            continue
        assert go is not None, f"{what}: grad {i} is None but PyTorch has one"
        assert_close(go, gt, what=f"{what} grad {i}")
    if not second:
        return
    live = [(go, gt, t_o, t_t) for go, gt, t_o, t_t in zip(
        g_ours, g_torch, [t for t, fl in zip(ours_in, floats) if fl],
        [t for t, fl in zip(torch_in, floats) if fl]) if gt is not None and gt.requires_grad]
    if not live:
        return
    vs = [rng.standard_normal(tuple(gt.shape)) for _, gt, _, _ in live]
    s_torch = sum((gt * torch.tensor(v, dtype=gt.dtype)).sum()
                  for (_, gt, _, _), v in zip(live, vs))
    s_ours = sum((go * tg.tensor(v, dtype=go.dtype)).sum() for (go, _, _, _), v in zip(live, vs))
    xs_t = [t for t, fl in zip(torch_in, floats) if fl]
    xs_o = [t for t, fl in zip(ours_in, floats) if fl]
    h_torch = torch.autograd.grad(s_torch, xs_t, allow_unused=True)
    if not isinstance(s_ours, tg.Tensor) or not s_ours.requires_grad:
        for ht in h_torch:
            # PyTorch's own formula can leave rounding noise (prod's backward gives 8.7e-19
            # where the second derivative is exactly 0): below 1e-12 counts as zero
            assert ht is None or not torch.any(ht.abs() > 1e-12), (
                f"{what}: second derivative lost")
        return
    h_ours = tg.grad(s_ours, xs_o, allow_unused=True)
    for i, (ho, ht) in enumerate(zip(h_ours, h_torch)):
        if ht is None:
            assert ho is None or np.all(as_numpy(ho) == 0), f"{what}: 2nd grad {i}"
            continue
        if ho is None:
            assert not torch.any(ht != 0), f"{what}: 2nd grad {i} is None, PyTorch nonzero"
            continue
        assert_close(ho, ht, what=f"{what} second derivative {i}")
