# mypy: disable-error-code="misc"
# (mixin methods annotate `self: Tensor`; mypy cannot check such self-types on mixins)
"""More Tensor methods (a mixin, beside `_reduce.py`): cumprod, median, nanmedian, the
random draws multinomial and bernoulli(_), and the functions var_mean and std_mean. It
also gathers the strict matrix products (`_products.py`) and `register_hook`
(`_hooks.py`), so tensor.py names one more base class.

All are composites: cumprod is products of slices, median picks its element with `gather`
(or `amax` over the tied elements), so gradients and second derivatives come from the
primitives. The random draws use the generator rules of `creation.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu._hooks import HooksMixin
from tinygrad_edu._inplace import _rng
from tinygrad_edu._products import ProductsMixin, zero_with_zero_gradient
from tinygrad_edu._reduce import _accumulator, cat_last
from tinygrad_edu.modes import _state, _tensor_types
from tinygrad_edu.ops.values import held
from tinygrad_edu.return_types import ValuesIndices

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor


class ReduceMoreMixin(ProductsMixin, HooksMixin):
    __slots__ = ()

    def cumprod(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        """Running product along `dim`: y_i = x_0 x_1 ... x_i. Integers and bools give int64.

        A log-depth scan of plain products (after the step with shift s, y_i holds the
        product of the 2s entries ending at i), never prod / x: so it is exact where x has
        zeros, and its gradient and second derivative are those of the products."""
        a = self._axis(dim, "cumprod")
        x = self.to(dtype if dtype is not None else _accumulator(self.array.dtype))
        if not x.ndim:  # one element: the running product is the tensor (as PyTorch)
            return x.clone()
        y = x.transpose(a, -1) if a != x.ndim - 1 else x
        n, shift = y.shape[-1], 1
        while shift < n:
            y = cat_last(y[..., :shift], y[..., shift:] * y[..., :n - shift])
            shift *= 2
        if n <= 1:
            y = y.clone()
        return y.transpose(a, -1) if a != x.ndim - 1 else y

    def median(self: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
        """The lower median (the ((n - 1) // 2)-th smallest value; NaN if there is a NaN).
        Without `dim`: a value, its gradient shared equally by the entries equal to it (as
        PyTorch). With `dim`: `(values, indices)`, the gradient going to the chosen entry;
        among tied values the index is the one a stable sort puts in the middle (PyTorch
        leaves ties unspecified)."""
        return self._median("median", dim, keepdim, ignore_nan=False)

    def nanmedian(self: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
        """`median` of the values that are not NaN (NaN where all are NaN)."""
        return self._median("nanmedian", dim, keepdim, ignore_nan=True)

    def _median(self: Tensor, op: str, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
        if self.dtype.kind == "b":
            raise TypeError(f"{op}: not defined for bool tensors (shape {self.shape}); "
                            "convert with .int() or .float()")
        if dim is None:
            flat = self.reshape(-1)
            if not flat.numel() and self.dtype.kind != "f":
                raise ValueError(f"{op}: an empty {self.dtype} tensor (shape {self.shape}) has "
                                 "no median (PyTorch returns NaN cast to an integer)")
            if not flat.numel():  # the median of nothing is NaN (as PyTorch)
                return self._wrap(np.array(np.nan, dtype=self.dtype))
            if _state.trace is not None:  # the number of tied entries sets a shape below
                _state.trace.read_value(self, f"{op}() over all elements")
            value = flat.array[_median_index(flat.array, 0, ignore_nan)[0]]
            if self.dtype.kind != "f":
                return self._wrap(np.asarray(value))
            tied = np.isnan(flat.array) if np.isnan(value) else flat.array == value
            # amax over the tied entries only: the value exactly, the gradient shared equally
            return flat[np.flatnonzero(tied)].amax()
        a = self._axis(dim, op)
        if not self.ndim:
            return ValuesIndices(self.clone(), self._wrap(np.zeros((), np.int64)))
        if not self.shape[a]:
            raise IndexError(f"{op}: dim {dim} of a tensor of shape {self.shape} is empty; "
                             "there is no median to take")
        index = held(_median_index, self, axis=a, ignore_nan=ignore_nan)  # compile: per call
        values = self.gather(a, index)
        if not keepdim:
            values, index = values.squeeze(a), index.squeeze(a)
        return ValuesIndices(values, index)

    def multinomial(self: Tensor, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        """Indices (int64) drawn from each row of non-negative weights (1-D or 2-D). Without
        replacement a drawn index is not drawn again (successive draws, each in proportion
        to the weights left), by the exponential race: the k smallest E_i / w_i with
        E_i ~ Exp(1)."""
        w = _multinomial_weights(self, num_samples, replacement)
        rng = _rng(generator)
        rows = w.reshape(-1, w.shape[-1])
        if replacement:  # inverse CDF: the first category whose running sum exceeds u * total
            cdf = np.cumsum(rows, axis=-1)
            u = rng.random((rows.shape[0], num_samples)) * cdf[:, -1:]
            idx = np.zeros(u.shape, np.int64)
            for r in range(rows.shape[0]):
                idx[r] = np.searchsorted(cdf[r], u[r], side="right")
            # rounding must not pick a zero-weight category at the end
            last = rows.shape[-1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=-1)
            idx = np.minimum(idx, last[:, None])
        else:
            race = rng.standard_exponential(rows.shape)
            with np.errstate(divide="ignore"):
                keys = np.where(rows > 0, race / np.where(rows > 0, rows, 1.0), np.inf)
            idx = np.argsort(keys, axis=-1, kind="stable")[:, :num_samples]
        out = idx.astype(np.int64)
        return self._wrap(out.reshape(num_samples) if self.ndim == 1 else out)

    def bernoulli(self: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
        """1 with probability p (each entry's own value, or the number `p`), else 0, in the
        tensor's dtype and shape. A sample does not move with p: its gradient is 0 (as
        PyTorch's), not missing."""
        if self.dtype.kind != "f":
            raise TypeError(f"bernoulli: expected a floating-point tensor of probabilities, "
                            f"got {self.dtype} with shape {self.shape}")
        prob = self.array if p is None else _probability(p, self.shape, "bernoulli")
        _check_probability(prob, "bernoulli", self.shape)
        sample = self._wrap((_rng(generator).random(self.shape) < prob).astype(self.dtype))
        return sample + zero_with_zero_gradient(self, self.shape) if self.requires_grad else sample

    def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Fill in place with 1 (probability p, a number or a tensor broadcast to this
        shape) or 0."""
        prob = _probability(p, self.shape, "bernoulli_")
        _check_probability(prob, "bernoulli_", self.shape)
        sample = _rng(generator).random(self.shape) < prob
        return self._put(Ellipsis, sample.astype(self.dtype), "bernoulli_")


def _median_index(x: np.ndarray, axis: int, ignore_nan: bool) -> np.ndarray:
    """The index of the lower median along `axis` (kept as a size-1 axis): the middle of
    a stable sort; NaN sorts last, so a row with NaN picks its first NaN (median) or
    the middle of its other values (nanmedian; the first NaN if all are NaN)."""
    order = np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    nans = (np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)).sum(
        axis=axis, keepdims=True)
    if ignore_nan:
        k = np.maximum(n - nans - 1, 0) // 2
    else:
        k = np.where(nans > 0, n - nans, (n - 1) // 2)
    return np.take_along_axis(order, k, axis=axis).astype(np.int64)


def _multinomial_weights(t: Tensor, num_samples: int, replacement: bool) -> np.ndarray:
    if t.dtype.kind != "f":
        raise TypeError(f"multinomial: expected floating-point weights, got {t.dtype} with "
                        f"shape {t.shape}")
    if t.ndim not in (1, 2):
        raise ValueError(f"multinomial: weights must be 1-D or 2-D (rows of weights), got "
                         f"shape {t.shape}")
    if num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples} "
                         f"(weights of shape {t.shape})")
    categories = t.shape[-1]
    if not replacement and num_samples > categories or not categories:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from {categories} categories (weights of shape {t.shape})")
    w = t.array.astype(np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"multinomial: weights of shape {t.shape} contain inf, nan or a "
                         "negative entry; every weight must be finite and >= 0")
    if np.any(w.sum(axis=-1) <= 0):
        raise ValueError(f"multinomial: a row of the weights of shape {t.shape} sums to 0; "
                         "each row needs a positive weight")
    return w


def _probability(p: Any, shape: tuple[int, ...], op: str) -> np.ndarray:
    prob = np.asarray(p.array if isinstance(p, _tensor_types.Tensor) else p, dtype=np.float64)
    try:
        return np.broadcast_to(prob, shape)
    except ValueError:
        raise ValueError(f"{op}: p of shape {prob.shape} cannot be broadcast to the tensor's "
                         f"shape {shape}") from None


def _check_probability(prob: np.ndarray, op: str, shape: tuple[int, ...]) -> None:
    if not np.all((prob >= 0) & (prob <= 1)):  # NaN fails both comparisons
        raise ValueError(f"{op}: every probability must be in [0, 1] (tensor of shape {shape}); "
                         f"got values in [{np.nanmin(prob)}, {np.nanmax(prob)}] or NaN")


def _moments(op: str, input: Any, dim: Any, unbiased: Any, keepdim: bool, correction: Any,
             root: bool) -> tuple[Tensor, Tensor]:
    x = _tensor_types.as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {x.dtype} with shape "
                        f"{x.shape}")
    if isinstance(dim, bool):  # `var_mean(x, False)`: the one positional is `unbiased`
        dim, unbiased = None, dim
    spread = (x.std if root else x.var)(dim, unbiased, keepdim, correction=correction)
    return spread, x.mean(dim=dim, keepdim=keepdim)


def var_mean(input: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: Any = None) -> tuple[Tensor, Tensor]:
    """`(var, mean)` over `dim`, as `torch.var_mean` (unbiased by default, as `var`)."""
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, root=False)


def std_mean(input: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: Any = None) -> tuple[Tensor, Tensor]:
    """`(std, mean)` over `dim`, as `torch.std_mean`."""
    return _moments("std_mean", input, dim, unbiased, keepdim, correction, root=True)
