"""cs231n's `fast_layers.py` names: the engine's convolution and max pooling (see
`course.layers`), so `from tinygrad_edu.course.fast_layers import conv_forward_fast` reads
as the course's import. Their backwards take the engine's caches and the courses' own."""

from tinygrad_edu.course.layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

__all__ = ["conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast",
           "max_pool_backward_fast"]
