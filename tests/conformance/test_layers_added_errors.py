"""Errors of the functional forms and layers added for issue 19: wherever PyTorch raises we
raise too (a ValueError, TypeError, IndexError or NotImplementedError, at the call), and our
messages name the op (and the layer) and every operand's full shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn as gnn
import tinygrad_edu.nn.functional as GF
from tinygrad_edu.errors import ShapeError

# ----------------------------------------------------------------------------- errors

ERRORS: dict[str, Callable[[Any, Any], Any]] = {
    "embedding index too large": lambda F, t: F.embedding(t.tensor([[0, 6]]), t.ones(6, 2)),
    "embedding negative index": lambda F, t: F.embedding(t.tensor([-1]), t.ones(6, 2)),
    "embedding float index": lambda F, t: F.embedding(t.tensor([1.0]), t.ones(6, 2)),
    "embedding 1-d weight": lambda F, t: F.embedding(t.tensor([1]), t.ones(6)),
    "embedding padding_idx": lambda F, t: F.embedding(t.tensor([1]), t.ones(6, 2),
                                                      padding_idx=6),
    "interpolate both": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), size=2, scale_factor=2),
    "interpolate neither": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3)),
    "interpolate size length": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), size=(2,)),
    "interpolate align nearest": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2,
                                                            align_corners=True),
    "interpolate linear 4d": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), size=2,
                                                        mode="linear"),
    "interpolate bilinear 3d": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2,
                                                          mode="bilinear"),
    "interpolate bicubic 5d": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3, 3), size=2,
                                                         mode="bicubic"),
    "adaptive 3d of 3d": lambda F, t: F.adaptive_max_pool3d(t.ones(2, 3, 3), 2),
    "adaptive 3d empty channels": lambda F, t: F.adaptive_avg_pool3d(t.ones(1, 0, 2, 2, 2), 2),
    "interpolate 2d input": lambda F, t: F.interpolate(t.ones(3, 3), size=2),
    "interpolate zero size": lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), scale_factor=0.1),
    "interpolate recompute size": lambda F, t: F.interpolate(
        t.ones(1, 1, 3), size=2, recompute_scale_factor=True),
    "adaptive 2d input": lambda F, t: F.adaptive_avg_pool2d(t.ones(3, 3), 2),
    "adaptive empty dim": lambda F, t: F.adaptive_max_pool2d(t.ones(1, 2, 0, 3), 2),
    "adaptive max empty channels": lambda F, t: F.adaptive_max_pool2d(t.ones(2, 0, 3, 3), 2),
    "adaptive avg empty plane": lambda F, t: F.adaptive_avg_pool2d(t.ones(2, 3, 0, 3), 2),
    "adaptive size length": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 3), (1, 2, 3)),
    "adaptive int input": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 3,
                                                                    dtype=t.int64), 2),
    "pixel_shuffle channels": lambda F, t: F.pixel_shuffle(t.ones(1, 6, 2, 2), 2),
    "pixel_shuffle 2d": lambda F, t: F.pixel_shuffle(t.ones(4, 2), 2),
    "pixel_unshuffle size": lambda F, t: F.pixel_unshuffle(t.ones(1, 1, 3, 4), 2),
    "group_norm groups": lambda F, t: F.group_norm(t.ones(2, 3, 4), 2),
    "group_norm weight": lambda F, t: F.group_norm(t.ones(2, 4, 3), 2, t.ones(3)),
    "group_norm one value": lambda F, t: F.group_norm(t.ones(1, 2), 2),
    "instance_norm one position": lambda F, t: F.instance_norm(t.ones(2, 3, 1)),
    "bilinear shapes": lambda F, t: F.bilinear(t.ones(2, 3), t.ones(2, 2), t.ones(4, 2, 2)),
    "bilinear leading": lambda F, t: F.bilinear(t.ones(2, 3), t.ones(3, 2), t.ones(4, 3, 2)),
    "instance_norm running_mean only": lambda F, t: F.instance_norm(t.ones(2, 3, 4),
                                                                    running_mean=t.zeros(3)),
    "instance_norm no running stats": lambda F, t: F.instance_norm(t.ones(2, 3, 4),
                                                                   use_input_stats=False),
    "adaptive output_size None": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 4), None),
    "adaptive output_size float": lambda F, t: F.adaptive_avg_pool2d(t.ones(1, 2, 3, 4), 2.0),
    "adaptive max 1d of 4d": lambda F, t: F.adaptive_max_pool1d(t.ones(1, 2, 3, 4), 2),
    "bilinear bias shape": lambda F, t: F.bilinear(t.ones(2, 3), t.ones(2, 2), t.ones(4, 3, 2),
                                                   t.ones(3)),
    "bilinear broadcast": lambda F, t: F.bilinear(t.ones(1, 3), t.ones(2, 2), t.ones(4, 3, 2)),
    "group_norm 1d": lambda F, t: F.group_norm(t.ones(4), 2),
    "group_norm zero groups": lambda F, t: F.group_norm(t.ones(2, 4), 0),
    "pixel_shuffle zero factor": lambda F, t: F.pixel_shuffle(t.ones(1, 4, 2, 2), 0),
    "interpolate float size": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2.0),
    "interpolate unknown mode": lambda F, t: F.interpolate(t.ones(1, 1, 3), size=2, mode="cubic"),
    "embedding 3-d weight": lambda F, t: F.embedding(t.tensor([0]), t.ones(2, 3, 4)),
    "embedding padding_idx below": lambda F, t: F.embedding(t.tensor([0]), t.ones(2, 3),
                                                            padding_idx=-3),
    "dropout2d p": lambda F, t: F.dropout2d(t.ones(2, 3, 2, 2), 1.5),
    "dropout1d 4d": lambda F, t: F.dropout1d(t.ones(2, 3, 2, 2)),
    "pad circular wraps twice": lambda F, t: F.pad(t.ones(1, 1, 5), (6, 0), mode="circular"),
    "pad circular wraps the cropped twice": lambda F, t: F.pad(t.ones(1, 1, 5), (3, -3),
                                                               mode="circular"),
    "pad circular crop below zero": lambda F, t: F.pad(t.ones(1, 1, 5), (1, -6),
                                                       mode="circular"),
    "pad reflect empty channel": lambda F, t: F.pad(t.ones(2, 0, 3), (1, 1), mode="reflect"),
    "pad reflect all cropped": lambda F, t: F.pad(t.ones(1, 1, 4), (-2, -2), mode="reflect"),
    "pad constant crop before pad": lambda F, t: F.pad(t.ones(1, 1, 4), (3, -5)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_where_torch_raises(name: str) -> None:
    call = ERRORS[name]
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's own types vary
        call(TF, torch)
    with pytest.raises((ValueError, TypeError, IndexError)):
        call(GF, tg)


MESSAGES: list[tuple[Callable[[], Any], type, tuple[str, ...]]] = [
    (lambda: GF.embedding(tg.tensor([[0, 6]]), tg.ones(6, 2)), IndexError,
     ("embedding", "index 6", "num_embeddings 6", "(1, 2)")),
    (lambda: gnn.Embedding(6, 2)(tg.tensor([-3])), IndexError,
     ("Embedding", "index -3", "num_embeddings 6")),
    (lambda: GF.interpolate(tg.ones(1, 1, 3, 3), size=(2,)), ValueError,
     ("interpolate", "(1, 1, 3, 3)", "(2,)")),
    (lambda: GF.interpolate(tg.ones(1, 1, 3, 3), size=2, mode="lanczos"), ValueError,
     ("interpolate", "lanczos", "antialias=True")),
    (lambda: GF.interpolate(tg.ones(1, 3, 3), size=2, mode="bilinear", antialias=True),
     ValueError, ("interpolate", "antialias", "(1, 3, 3)")),
    (lambda: gnn.Upsample(size=2, mode="linear")(tg.ones(1, 1, 3, 3)), ShapeError,
     ("Upsample", "(1, 1, 3, 3)", "linear")),
    (lambda: GF.adaptive_avg_pool2d(tg.ones(3, 3), 2), ValueError,
     ("adaptive_avg_pool2d", "(3, 3)")),
    (lambda: gnn.AdaptiveMaxPool2d(2)(tg.ones(1, 2, 0, 3)), ValueError,
     ("AdaptiveMaxPool2d", "adaptive_max_pool2d", "(1, 2, 0, 3)")),
    (lambda: GF.pixel_shuffle(tg.ones(1, 6, 2, 2), 2), ValueError,
     ("pixel_shuffle", "(1, 6, 2, 2)")),
    (lambda: GF.group_norm(tg.ones(2, 3, 4), 2), ValueError,
     ("group_norm", "(2, 3, 4)", "num_groups=2")),
    (lambda: gnn.GroupNorm(2, 4)(tg.ones(2, 3, 4)), ValueError, ("GroupNorm", "(2, 3, 4)")),
    (lambda: gnn.InstanceNorm2d(3, affine=True)(tg.ones(2, 4, 3, 3)), ValueError,
     ("InstanceNorm2d", "(2, 4, 3, 3)", "num_features (3)")),
    (lambda: gnn.Bilinear(3, 2, 4)(tg.ones(5, 3), tg.ones(5, 3)), ValueError,
     ("Bilinear", "(5, 3)", "(4, 3, 2)")),
    (lambda: GF.pad(tg.ones(1, 1, 5), (3, -3), mode="circular"), ValueError,
     ("pad", "(3, -3)", "(1, 1, 5)")),
    (lambda: GF.pad(tg.ones(5), (5, 1), mode="reflect"), ValueError,
     ("pad", "(5, 1)", "(5,)")),
]


@pytest.mark.parametrize("k", range(len(MESSAGES)))
def test_error_messages_name_the_op_and_shapes(k: int) -> None:
    call, kind, parts = MESSAGES[k]
    with pytest.raises(kind) as info:
        call()
    for part in parts:
        assert part in str(info.value), f"{part!r} missing from: {info.value}"
