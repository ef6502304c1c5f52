"""The deep-learning courses' workflow on top of the engine, under the courses' own names:
cs231n-style layer functions with caches (`course.layers`, with the naive loops in
`course.naive` and the fast names in `course.fast_layers`), the numeric gradient helpers
(`course.gradient_check`), course models with a `params` dict of numpy arrays that
`tinygrad_edu.train.Solver` trains (`course.models`), the self-training classifiers of the
first assignments (`course.linear_classifier`, `course.neural_net`,
`course.classifier_trainer`) and `course.vis_utils.visualize_grid`.

    from tinygrad_edu.course.layers import affine_forward, affine_backward
    from tinygrad_edu.course.gradient_check import eval_numerical_gradient_array, rel_error

    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)       # or affine_backward(dout, (x, w, b))
    dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
    print(rel_error(dx, dx_num))

cs231n's recurrent layers (assignment 3) are in `course.rnn_layers`, re-exported here:
`rnn_step_forward`, `rnn_forward`, `lstm_step_forward`, `lstm_forward`, word embedding,
temporal affine and `temporal_softmax_loss`, each `*_forward` with its `*_backward`.

Where the courses differ, each has its own spelling:

    course     module                       weights            L2 penalty
    cs231n     layers, models (fc_net, cnn)  (D, M)             0.5 reg |W|^2
               linear_classifier             W (D, C), X (N, D) reg |W|^2
               neural_net.TwoLayerNet        W1 (D, H)          reg |W|^2
    CS7643     cs7643 (LinearClassifier,     W (C, D), X (D, N) 0.5 reg |W|^2
               Softmax, LinearSVM, ClassifierTrainer, two_layer_net: W1 (D, H))
    ECE C147   ece_c147.TwoLayerNet          W1 (H, D), W2 (C, H) 0.5 reg |W|^2
               models.FullyConnectedNet(dropout=0, use_batchnorm=True), as cs231n's older
               versions; models.TwoLayerNet(hidden_dims=...)

Dropout's p is the probability of keeping a unit throughout (cs231n 2017+, ECE C147).
"""

from tinygrad_edu.course import (
    classifier_trainer,
    classifiers,
    cs7643,
    ece_c147,
    fast_layers,
    gradient_check,
    layers,
    linear_classifier,
    models,
    naive,
    neural_net,
    normalization,
    rnn_layers,
    vis_utils,
)
from tinygrad_edu.course.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)
from tinygrad_edu.course.layers import *  # noqa: F403
from tinygrad_edu.course.layers import __all__ as _layers
from tinygrad_edu.course.rnn_layers import *  # noqa: F403
from tinygrad_edu.course.rnn_layers import __all__ as _rnn_layers
from tinygrad_edu.course.vis_utils import visualize_grid

__all__ = ["layers", "naive", "fast_layers", "normalization", "gradient_check", "models",
           "classifiers", "linear_classifier", "neural_net", "classifier_trainer", "cs7643",
           "ece_c147", "vis_utils", "visualize_grid", "eval_numerical_gradient",
           "eval_numerical_gradient_array", "grad_check_sparse", "rel_error", *_layers]
__all__ += ["rnn_layers", *_rnn_layers]
