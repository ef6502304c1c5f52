"""The losses of `nn.losses_more` as modules (as `torch.nn.KLDivLoss` ...): options in
`__init__` with PyTorch's names, order and defaults (including the deprecated
`size_average` and `reduce`, which set `reduction` after PyTorch's UserWarning), the
function in `forward`. A bad reduction raises at construction."""

from __future__ import annotations

from typing import Any

from tinygrad_edu.nn.losses_more import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    legacy_reduction,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor, as_tensor

__all__ = ["KLDivLoss", "SoftMarginLoss", "MarginRankingLoss", "TripletMarginLoss",
           "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss",
           "MultiLabelSoftMarginLoss"]


class _Loss(Module):
    """PyTorch's `_Loss`: `reduction` (or the legacy pair that sets it), one of
    `reductions`."""

    reductions: tuple[str, ...] = ("mean", "sum", "none")

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
        if self.reduction not in self.reductions:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{', '.join(map(repr, self.reductions))}, got {self.reduction!r}")

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class KLDivLoss(_Loss):
    """`kl_div` as a module: log-probabilities and (log-)probability targets."""

    reductions = ("mean", "batchmean", "sum", "none")

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Any, target: Any) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    """`soft_margin_loss` as a module: log(1 + exp(-y x)) for targets +-1."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """`margin_ranking_loss` as a module: forward(input1, input2, target)."""

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Any, input2: Any, target: Any) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin,
                                   reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """`triplet_margin_loss` as a module: forward(anchor, positive, negative)."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Any, positive: Any, negative: Any) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """`poisson_nll_loss` as a module (log-rates by default)."""

    def __init__(self, log_input: bool = True, full: bool = False,
                 size_average: bool | None = None, eps: float = 1e-8,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Any, target: Any) -> Tensor:
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """`gaussian_nll_loss` as a module: forward(input, target, var). Its options are
    keyword-only, as in PyTorch."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Any, target: Any, var: Any) -> Tensor:
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class CosineEmbeddingLoss(_Loss):
    """`cosine_embedding_loss` as a module: forward(input1, input2, target)."""

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Any, input2: Any, target: Any) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """`hinge_embedding_loss` as a module."""

    def __init__(self, margin: float = 1.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Any, target: Any) -> Tensor:
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """`multilabel_soft_margin_loss` as a module; the class `weight` is a buffer, as in
    PyTorch."""

    weight: Tensor | None

    def __init__(self, weight: Any = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor(weight))

    def forward(self, input: Any, target: Any) -> Tensor:
        return multilabel_soft_margin_loss(input, target, self.weight,
                                           reduction=self.reduction)
