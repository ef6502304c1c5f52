"""The public helpers that replaced private reaches across packages (issue 15): nn, data and
course build constants with `from_numpy`/`as_tensor` instead of `Tensor._wrap`, resolve a
`generator=` with `creation.numpy_generator` instead of `tensor._rng`, and read files through
the public `tinygrad_edu.files`."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import files
from tinygrad_edu.course import layers
from tinygrad_edu.creation import Generator, default_generator, manual_seed, numpy_generator
from tinygrad_edu.tensor import Tensor


def test_numpy_generator_resolves_every_spelling_of_generator() -> None:
    manual_seed(3)
    assert numpy_generator() is default_generator()
    assert numpy_generator(None) is default_generator()
    rng = np.random.default_rng(1)
    assert numpy_generator(rng) is rng
    g = Generator().manual_seed(2)
    assert numpy_generator(g) is g.rng
    assert numpy_generator(5).random() == np.random.default_rng(5).random()
    with pytest.raises(TypeError, match="Generator"):
        numpy_generator("seed")


def test_constants_of_0d_tensors_hold_arrays() -> None:
    # numpy gives scalars, not 0-d arrays, for clip/compare on a 0-d array; a Tensor holds
    # an ndarray whatever the shape.
    x = Tensor(np.asarray(2.0))
    assert isinstance(F.hardtanh(x).array, np.ndarray)
    assert isinstance(F.dropout(x, 0.5, training=True, generator=0).array, np.ndarray)
    p = nn.Parameter(np.asarray(3.0))
    for clip in (lambda: nn.utils.clip_grad_value_([p], 1.0),
                 lambda: nn.utils.clip_grad_norm_([p], 1.0)):
        p.grad = Tensor(np.asarray(5.0))
        clip()
        assert isinstance(p.grad.array, np.ndarray)
        assert float(p.grad.item()) == pytest.approx(1.0, rel=1e-5)


def test_unflatten_names_itself_for_a_bad_dim() -> None:
    with pytest.raises(IndexError, match=r"^Unflatten: dim 3 is out of range .* \(2, 4\)"):
        nn.Unflatten(3, (2, 2))(Tensor(np.zeros((2, 4))))
    assert nn.Unflatten(-1, (2, 2))(Tensor(np.zeros((3, 4)))).shape == (3, 2, 2)


@pytest.mark.parametrize("param", [{"p": 0.5, "mode": "train", "seed": 1},
                                   {"p": 0.5, "mode": "train"}])
def test_course_dropout_of_a_0d_input(param: dict[str, object]) -> None:
    out, cache = layers.dropout_forward(np.asarray(2.0), param)
    assert np.shape(out) == ()
    assert float(layers.dropout_backward(np.asarray(1.0), cache)) in (0.0, 2.0)


def test_files_is_public() -> None:
    assert set(files.__all__) == {"NPZ_EXPECTED", "check_file", "load_arrays", "load_npz"}
