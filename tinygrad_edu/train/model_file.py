"""A trained model handed on: its weights, which model to build (a name and constructor
arguments) and the preprocessing its training inputs went through, in one `.npz` that
`load_model` (and `tinygrad-edu predict` / `evaluate`) turn back into predictions on raw
images. Written by `tinygrad_edu.save`: arrays as members, the rest JSON; read without
unpickling, and only the models named in `MODELS` can be built from it.

The preprocessing (`Preprocessing`) runs in the order the training data went through it:
1. scaling: integer pixels, as the dataset's files hold them, are scaled as its loader
   scaled them (MNIST x / 255, digits x / 16); float arrays are taken as already scaled
   and must lie in [0, 1] when the pixels were (as torchvision's ToTensor: integers are
   divided, floats pass);
2. shape: rows (N, D) for an MLP, images (N, C, H, W) for a convnet; (N, H, W), (N, C, H, W)
   and (N, D) inputs are all accepted;
3. the transform fitted on the training split, with its fitted statistics: 'mean_image'
   (the mean training image, subtracted), 'standardize' or 'channel' (means and stds).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.autograd import no_grad
from tinygrad_edu.errors import DataFormatError
from tinygrad_edu.serialization import load, save
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.train.checkpoint import FORMAT as CHECKPOINT_FORMAT

FORMAT = "tinygrad_edu model"
VERSION = 1
MODELS = ("mlp", "convnet")  # tinygrad_edu.models.MLP, tinygrad_edu.models.SmallConvNet
# How each dataset's loader scales the integers its files hold (None: it does not).
PIXEL_SCALE = {"mnist": 1 / 255, "fashion-mnist": 1 / 255, "digits": 1 / 16}
IMAGE_SHAPE = {"mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "digits": (1, 8, 8),
               "cifar10": (3, 32, 32)}


@dataclass
class Preprocessing:
    """What turned raw inputs into the model's training inputs (see the module docstring).
    `dataset` and `split_seed` name the data, so a split can be loaded again."""

    dataset: str
    input_shape: tuple[int, ...]  # one sample as the model takes it: (784,) or (1, 28, 28)
    flatten: bool
    image_shape: tuple[int, ...] | None = None  # one image before flattening
    pixel_scale: float | None = None
    transform: str | None = None  # 'mean_image', 'standardize', 'channel' or None
    statistics: dict[str, Any] = field(default_factory=dict)  # what the transform fitted
    split_seed: int = 0

    @classmethod
    def of(cls, splits: Any, seed: int = 0) -> Preprocessing:
        """The preprocessing of `splits` (from `data.load_dataset(..., seed=seed)`)."""
        fitted = splits.info.get("transform")
        stats = {k: getattr(fitted, k) for k in ("mean", "std", "channel_axis")
                 if getattr(fitted, k, None) is not None}
        input_shape = tuple(int(n) for n in splits.X_train.shape[1:])
        image = IMAGE_SHAPE.get(splits.name)
        return cls(dataset=splits.name, input_shape=input_shape,
                   flatten=len(input_shape) == 1 and image is not None, image_shape=image,
                   pixel_scale=PIXEL_SCALE.get(splits.name),
                   transform=splits.info.get("preprocess"), statistics=stats, split_seed=seed)

    def state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Preprocessing:
        state = dict(state)
        state["input_shape"] = tuple(state["input_shape"])
        if state.get("image_shape") is not None:
            state["image_shape"] = tuple(state["image_shape"])
        return cls(**state)

    def same_as(self, other: Preprocessing) -> bool:
        """The same steps with the same fitted statistics (compared exactly)."""
        mine, theirs = self.state(), other.state()
        stats, other_stats = mine.pop("statistics"), theirs.pop("statistics")
        return mine == theirs and stats.keys() == other_stats.keys() and all(
            np.array_equal(stats[k], other_stats[k]) for k in stats)

    def __call__(self, X: Any) -> np.ndarray:
        """Raw inputs (N, ...) -> what the model was trained on."""
        X = np.asarray(X.numpy() if isinstance(X, Tensor) else X)
        if X.ndim < 2:
            raise ValueError(f"predict: expected a batch of inputs (N, ...), got shape {X.shape}")
        X = self._scaled(X)
        if not self._accepts(X.shape[1:]):
            raise self._mismatch(X.shape)
        return self._transformed(X.reshape((X.shape[0], *self.input_shape)))

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        if X.dtype.kind in "iub":
            if self.pixel_scale is None:
                return X.astype(np.float32)
            # As the loaders do: one float32 multiply, so file pixels give the same floats.
            return np.multiply(X, np.float32(self.pixel_scale), dtype=np.float32)
        if X.dtype.kind != "f":
            raise ValueError(f"predict: inputs must be numbers, got dtype {X.dtype}")
        if self.pixel_scale is not None and X.size and (X.min() < -1e-3 or X.max() > 1 + 1e-3):
            raise ValueError(
                f"predict: float pixels range over [{X.min():.4g}, {X.max():.4g}], but the "
                f"{self.dataset} training images lay in [0, 1]; pass the raw integer pixels "
                f"(scaled by {self.pixel_scale:.4g} here) or floats in [0, 1], not inputs that "
                "were already preprocessed")
        return X.astype(np.float32, copy=False)

    def _accepts(self, sample: tuple[int, ...]) -> bool:
        size = int(np.prod(self.input_shape))
        shapes = {self.input_shape, (size,)}
        if self.image_shape is not None:
            shapes.add(self.image_shape)
            if self.image_shape[0] == 1:
                shapes.add(self.image_shape[1:])
        return sample in shapes

    def _mismatch(self, shape: tuple[int, ...]) -> ValueError:
        wanted = [self.input_shape] + ([self.image_shape] if self.image_shape else [])
        return ValueError(f"predict: inputs of shape {shape} do not fit the model, which was "
                         f"trained on {self.dataset} samples of shape "
                         f"{' or '.join(str(s) for s in wanted)} (batch axis first)")

    def _transformed(self, X: np.ndarray) -> np.ndarray:
        from tinygrad_edu.data import ChannelNormalizer, MeanImage, Standardizer

        stats = self.statistics
        if self.transform is None:
            return X
        if self.transform == "channel":
            return ChannelNormalizer(stats["mean"], stats["std"],
                                     int(stats["channel_axis"])).fit(X)(X)
        fitted: Any = {"mean_image": MeanImage, "standardize": Standardizer}[self.transform]()
        for key in ("mean", "std"):
            if key in stats:
                setattr(fitted, key, np.asarray(stats[key]))
        return fitted(X)


def build_model(spec: dict[str, Any]) -> Any:
    """The model a spec names: {'name': 'mlp' or 'convnet', 'kwargs': {...}}."""
    from tinygrad_edu import models

    name, kwargs = spec.get("name"), dict(spec.get("kwargs", {}))
    if name not in MODELS:
        raise ValueError(f"load_model: unknown model {name!r}; this library builds {MODELS}")
    cls = models.MLP if name == "mlp" else models.SmallConvNet
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"load_model: cannot build {cls.__name__}({kwargs}): {e}") from None


@dataclass
class TrainedModel:
    """A model, its preprocessing and what the file said about its training."""

    model: Any
    preprocessing: Preprocessing
    spec: dict[str, Any]
    class_names: tuple[str, ...] = ()
    run: dict[str, Any] = field(default_factory=dict)

    def scores(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """Class scores for raw inputs, in eval mode and without a graph."""
        X = self.preprocessing(X)
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                out = [self.model(Tensor(X[i:i + batch_size])).numpy()
                       for i in range(0, len(X), batch_size)]
        finally:
            self.model.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def predict(self, X: Any, batch_size: int = 256) -> np.ndarray:
        return np.argmax(self.scores(X, batch_size), axis=1)


def save_model(path: str | os.PathLike[str], model: Any, meta: dict[str, Any]) -> Path:
    """Write `model`'s weights with `meta` ({'model': spec, 'preprocessing': state,
    'class_names': [...], 'run': {...}}) to one .npz."""
    path = Path(path)
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    save({"format": FORMAT, "version": VERSION, **meta, "state_dict": weights}, path)
    return path


def load_model(path: str | os.PathLike[str]) -> TrainedModel:
    """A model file from `save_model`, or a Solver checkpoint carrying the same `meta` (its
    best-validation weights, which training ends with), ready to predict on raw inputs."""
    state = load(Path(path))
    fmt = state.get("format") if isinstance(state, dict) else None
    if fmt == CHECKPOINT_FORMAT:
        meta, weights = state["meta"] or {}, state["best_params"] or state["params"]
    elif fmt == FORMAT:
        meta, weights = state, state["state_dict"]
    else:
        raise DataFormatError(
            f"load_model: '{path}' is not a model file (written by tinygrad-edu train or "
            "train.save_model); a bare state dict does not say which model or preprocessing "
            "it needs: load it with model.load(path) and preprocess inputs as in training")
    if "model" not in meta or "preprocessing" not in meta:
        raise DataFormatError(f"load_model: the checkpoint '{path}' does not describe its model "
                              "and preprocessing (its Solver had no such checkpoint_meta)")
    model = build_model(meta["model"])
    model.load_state_dict(weights)
    return TrainedModel(model, Preprocessing.from_state(meta["preprocessing"]), meta["model"],
                        tuple(meta.get("class_names") or ()), meta.get("run") or {})


def read_images(path: str | os.PathLike[str]) -> np.ndarray:
    """The images in an .npy, an .npz (members X, x, images, X_test, x_test or data, or its
    only member) or an IDX file (plain or gzipped, as MNIST's)."""
    from tinygrad_edu.data import read_idx
    from tinygrad_edu.files import load_arrays

    p = Path(path)
    if p.suffix not in (".npy", ".npz"):
        return read_idx(p)
    arrays = load_arrays(p, "predict", "an .npy array or an .npz holding one")
    if isinstance(arrays, np.ndarray):
        return arrays
    for key in ("X", "x", "images", "X_test", "x_test", "data"):
        if key in arrays:
            return arrays[key]
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    raise DataFormatError(f"predict: '{p}' holds {sorted(arrays)}; name the images X, x, "
                          "images or data")


def load_split(preprocessing: Preprocessing, split: str, data_dir: str | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """The raw (X, y) of a split of the training dataset, cut as in training."""
    from tinygrad_edu.data import load_dataset

    splits = load_dataset(preprocessing.dataset, data_dir, seed=preprocessing.split_seed,
                          flatten=preprocessing.flatten, preprocess=None)
    return getattr(splits, f"X_{split}"), getattr(splits, f"y_{split}")
