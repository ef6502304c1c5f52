"""Data: datasets, DataLoader, file loaders and preprocessing (`torch.utils.data` ->
`tinygrad_edu.data`).

- `Dataset`, `TensorDataset`, `Subset`, `ConcatDataset`, `random_split`, `DataLoader`,
  `default_collate`, `default_convert`: PyTorch's names and behaviour.
- `load_dataset(name, data_dir=None, ...)` -> `Splits` for mnist, fashion-mnist, cifar10,
  iris, digits, spirals, moons, blobs (see `registry` for the splits it makes).
- File readers: `load_mnist`/`read_idx` (IDX, plain or gzip; `check_mnist_files` and
  `recognize_mnist_dir` tell MNIST, Fashion-MNIST and KMNIST files apart by md5),
  `load_cifar10` (python and binary versions; pickles read by the restricted unpickler
  `safe_load`),
  `load_npy_test_set` (.npy/.npz, never unpickled).
- Preprocessing fitted on train: `MeanImage`, `ChannelNormalizer`, `Standardizer` (and the
  functions `subtract_mean_image`, `normalize_channels`, `standardize`), `one_hot`.
- Synthetic sets: `make_spirals`, `make_moons`, `make_blobs`.
"""

from tinygrad_edu.data._errors import DataFormatError
from tinygrad_edu.data.checksums import (
    UnrecognizedDataWarning,
    WrongDatasetError,
    check_mnist_files,
    recognize_mnist_dir,
)
from tinygrad_edu.data.cifar import (
    CIFAR10_CLASSES,
    load_batch_binary,
    load_batch_python,
    load_cifar10,
)
from tinygrad_edu.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from tinygrad_edu.data.idx import FASHION_MNIST_CLASSES, MNIST_CLASSES, load_mnist, read_idx
from tinygrad_edu.data.loader import DataLoader, default_collate, default_convert
from tinygrad_edu.data.npy import load_npy_test_set
from tinygrad_edu.data.registry import (
    DATASETS,
    data_roots,
    describe,
    find_data_dir,
    find_mnist_dir,
    load_dataset,
)
from tinygrad_edu.data.safe_pickle import UnsafePickleError, safe_load, safe_loads
from tinygrad_edu.data.sklearn_sets import load_digits, load_iris
from tinygrad_edu.data.splits import Splits, course_split, split_indices, train_val_test_split
from tinygrad_edu.data.synthetic import make_blobs, make_moons, make_spirals
from tinygrad_edu.data.transforms import (
    ChannelNormalizer,
    MeanImage,
    Standardizer,
    normalize_channels,
    one_hot,
    standardize,
    subtract_mean_image,
)

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
    "default_collate", "default_convert", "load_dataset", "DATASETS", "Splits", "describe",
    "find_data_dir", "find_mnist_dir", "data_roots", "split_indices", "train_val_test_split",
    "course_split",
    "load_mnist", "read_idx", "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "load_cifar10",
    "load_batch_binary", "load_batch_python", "CIFAR10_CLASSES", "safe_load", "safe_loads",
    "UnsafePickleError", "DataFormatError", "WrongDatasetError", "UnrecognizedDataWarning",
    "check_mnist_files", "recognize_mnist_dir", "load_npy_test_set", "load_iris", "load_digits",
    "make_spirals", "make_moons", "make_blobs", "MeanImage", "ChannelNormalizer",
    "Standardizer", "subtract_mean_image", "normalize_channels", "standardize", "one_hot",
]
