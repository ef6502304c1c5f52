"""Constructors, at module level as PyTorch has them (`tinygrad_edu.zeros(...)`).

Randomness comes from a `numpy.random.Generator`: the one passed as `generator=` (a numpy
Generator, a `tinygrad_edu.Generator` or an int seed), else the library's default one,
which `manual_seed` resets. numpy's global `np.random` state is never touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu._arguments import as_dtype, as_int, int_args
from tinygrad_edu.autograd import _state
from tinygrad_edu.device import accepts_device
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.tensor import Tensor, _rng, _to_array


class Generator:
    """A seedable random source, as `torch.Generator` (wraps a numpy Generator)."""

    def __init__(self, device: str = "cpu") -> None:
        self.rng = np.random.default_rng()

    def manual_seed(self, seed: int) -> Generator:
        self.rng = np.random.default_rng(int(seed))
        return self


def manual_seed(seed: int) -> Generator:
    """Reset the library's default generator (used by every random function without
    an explicit `generator`)."""
    _state.generator = np.random.default_rng(int(seed))
    g = Generator()
    g.rng = _state.generator
    return g


def default_generator() -> np.random.Generator:
    return _state.generator


def numpy_generator(generator: Any = None) -> np.random.Generator:
    """The numpy Generator a `generator=` argument stands for: a numpy Generator itself, the
    one inside a `tinygrad_edu.Generator`, a new one seeded with an int, or (None) the
    library's default generator, which `manual_seed` resets."""
    return _rng(generator)


def _shape(size: tuple[Any, ...], op: str) -> tuple[int, ...]:
    shape = int_args(size, op)
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: negative dimensions are not allowed; got size {shape} (every "
                         f"dim must be >= 0)")
    return shape


def _dtype_or_default(dtype: Any, op: str) -> np.dtype:
    return _state.default_dtype if dtype is None else as_dtype(dtype, op)


def _make(data: np.ndarray, dtype: Any, requires_grad: bool, float_default: bool = True
          ) -> Tensor:
    if dtype is not None:
        data = data.astype(as_dtype(dtype, "tensor creation"), copy=False)
    elif float_default and data.dtype.kind == "f":
        data = data.astype(_state.default_dtype, copy=False)
    return Tensor(data, requires_grad=requires_grad)


@accepts_device
def tensor(data: Any, dtype: Any = None, requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """A new tensor (a copy). Python floats -> float32 (the default dtype), ints -> int64,
    bools -> bool; numpy input keeps its dtype."""
    arr = _to_array(data, dtype)
    if isinstance(data, np.ndarray | Tensor) and arr is (data.array if isinstance(data, Tensor)
                                                          else data):
        arr = arr.copy()
    return Tensor(arr, requires_grad=requires_grad, name=name)


@accepts_device
def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """`data` as a tensor without copying when it can: a Tensor of the same dtype is returned
    itself, a numpy array of the same dtype is shared (as PyTorch)."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor(_to_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    return Tensor(array)


@accepts_device
def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size, "zeros"), dtype=_dtype_or_default(dtype, "zeros")), dtype,
                 requires_grad)


@accepts_device
def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size, "ones"), dtype=_dtype_or_default(dtype, "ones")), dtype,
                 requires_grad)


@accepts_device
def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


@accepts_device
def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _shape((size,), "full") if isinstance(size, tuple | list) else _shape((size,), "full")
    if dtype is None:  # a numpy scalar counts as the Python number it holds (as PyTorch)
        value = fill_value.item() if isinstance(fill_value, np.generic) else fill_value
        dtype = _to_array(value).dtype
    return _make(np.full(shape, fill_value, dtype=dtype), None, requires_grad, False)


@accepts_device
def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if n < 0 or m is not None and m < 0:
        raise ValueError(f"eye: negative dimensions are not allowed; got n={n}, m={m} (shape "
                         f"({n}, {n if m is None else m}); every dim must be >= 0)")
    return _make(np.eye(n, m, dtype=_dtype_or_default(dtype, "eye")), dtype, requires_grad)


@accepts_device
def arange(start: float = 0, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Like PyTorch: integer arguments give int64, any float argument the default float;
    `arange(5)`, `arange(end=5)`, `arange(1, 5)`."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError(f"arange: step must be nonzero (start={start}, end={end})")
    values = np.arange(start, end, step)
    if dtype is None and values.dtype.kind in "iu":
        values = values.astype(np.int64)
    return _make(values, dtype, requires_grad)


@accepts_device
def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    steps = as_int(steps, "linspace", "steps")
    if steps < 0:
        raise ValueError(f"linspace: steps must be >= 0, got {steps}")
    return _make(np.linspace(start, end, steps), dtype, requires_grad)


@accepts_device
def randn(*size: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False,
          seed: int | None = None) -> Tensor:
    """Standard normal samples."""
    rng = _rng(generator if seed is None else seed)
    return _make(rng.standard_normal(_shape(size, "randn")), dtype, requires_grad)


@accepts_device
def rand(*size: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False,
         seed: int | None = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = _rng(generator if seed is None else seed)
    return _make(rng.random(_shape(size, "rand")), dtype, requires_grad)


@accepts_device
def randint(low: int, high: int | None = None, size: Any = (), dtype: Any = None,
            generator: Any = None, seed: int | None = None) -> Tensor:
    """Integers in [low, high) (int64), as `torch.randint(low, high, size)` or
    `torch.randint(high, size)`."""
    if isinstance(high, tuple | list):  # randint(high, size): PyTorch's other overload
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    rng = _rng(generator if seed is None else seed)
    return Tensor(rng.integers(low, high, size=_shape((size,), "randint"),
                               dtype=np.dtype(dtype or np.int64)))


@accepts_device
def randperm(n: int, dtype: Any = None, generator: Any = None, seed: int | None = None) -> Tensor:
    rng = _rng(generator if seed is None else seed)
    return Tensor(rng.permutation(n).astype(np.dtype(dtype or np.int64)))


@accepts_device
def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, generator: Any = None,
           dtype: Any = None, requires_grad: bool = False) -> Tensor:
    rng = _rng(generator)
    m = np.asarray(mean.array if isinstance(mean, Tensor) else mean)
    s = np.asarray(std.array if isinstance(std, Tensor) else std)
    try:
        shape = (_shape((size,), "normal") if size is not None
                 else np.broadcast_shapes(m.shape, s.shape))
    except ValueError:
        raise ShapeError(f"normal: mean of shape {m.shape} and std of shape {s.shape} do not "
                         "broadcast (each dim must be equal or 1)") from None
    return _make(rng.normal(m, s, shape), dtype, requires_grad)


def _like(x: Any, dtype: Any, op: str = "zeros_like") -> tuple[tuple[int, ...], Any]:
    arr = x.array if isinstance(x, Tensor) else np.asarray(x)
    return arr.shape, arr.dtype if dtype is None else as_dtype(dtype, op)


@accepts_device
def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return Tensor(np.zeros(shape, dt), requires_grad=requires_grad)


@accepts_device
def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype, "ones_like")
    return Tensor(np.ones(shape, dt), requires_grad=requires_grad)


@accepts_device
def empty_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros_like(x, dtype, requires_grad)


@accepts_device
def full_like(x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype, "full_like")
    fill = np.asarray(fill_value.array if isinstance(fill_value, Tensor) else fill_value)
    if fill.ndim or fill.dtype.kind not in "biuf":
        raise TypeError(f"full_like: fill_value must be a number, got {fill_value!r}")
    return Tensor(np.full(shape, fill, dt), requires_grad=requires_grad)


@accepts_device
def randn_like(x: Any, dtype: Any = None, generator: Any = None,
               requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return Tensor(_rng(generator).standard_normal(shape).astype(dt), requires_grad=requires_grad)


@accepts_device
def rand_like(x: Any, dtype: Any = None, generator: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return Tensor(_rng(generator).random(shape).astype(dt), requires_grad=requires_grad)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """Indices drawn from each row of weights, as `torch.multinomial` (see
    `Tensor.multinomial`)."""
    return _as_input(input, "multinomial").multinomial(num_samples, replacement,
                                                       generator=generator)


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """0/1 samples, 1 with probability `input` (or the number `p`), as `torch.bernoulli`."""
    return _as_input(input, "bernoulli").bernoulli(p, generator=generator)


def _as_input(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x
