"""The deep-learning courses' workflow on top of the engine: cs231n-style layer functions
with caches (`course.layers`), the numeric gradient helpers (`course.gradient_check`) and
course models with a `params` dict of numpy arrays that `tinygrad_edu.train.Solver` trains
(`course.models`).

    from tinygrad_edu.course.layers import affine_forward, affine_backward
    from tinygrad_edu.course.gradient_check import eval_numerical_gradient_array, rel_error

    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
    print(rel_error(dx, dx_num))
"""

from tinygrad_edu.course import (
    classifiers,
    fast_layers,
    gradient_check,
    layers,
    models,
    naive,
    normalization,
)
from tinygrad_edu.course.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
from tinygrad_edu.course.layers import *  # noqa: F403
from tinygrad_edu.course.layers import __all__ as _layers

__all__ = ["layers", "naive", "fast_layers", "normalization", "gradient_check", "models",
           "classifiers",
           "eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse",
           "rel_error", *_layers]
