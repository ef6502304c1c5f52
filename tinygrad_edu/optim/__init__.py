"""Optimizers and learning-rate schedules, as `torch.optim` (`import tinygrad_edu.optim as
optim`; schedules in `tinygrad_edu.optim.lr_scheduler`).

Every optimizer updates `p.array` in place under `no_grad()` from `p.grad`, skipping
parameters without a gradient. The courses' numpy update rules (`sgd`, `sgd_momentum`,
`rmsprop`, `adam` with a config dict) are in `tinygrad_edu.optim.course`.
"""

from tinygrad_edu.optim import course, lr_scheduler
from tinygrad_edu.optim.adadelta import Adadelta
from tinygrad_edu.optim.adagrad import Adagrad
from tinygrad_edu.optim.adam import Adam, AdamW
from tinygrad_edu.optim.adamax import Adamax
from tinygrad_edu.optim.asgd import ASGD
from tinygrad_edu.optim.lbfgs import LBFGS
from tinygrad_edu.optim.nadam import NAdam
from tinygrad_edu.optim.optimizer import Optimizer
from tinygrad_edu.optim.radam import RAdam
from tinygrad_edu.optim.rmsprop import RMSprop
from tinygrad_edu.optim.rprop import Rprop
from tinygrad_edu.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "lr_scheduler", "course",
           "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS"]
