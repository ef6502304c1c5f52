"""`torch.utils.data` -> `tinygrad_edu.data` as a PyTorch user uses it (issue 8):
TensorDataset, DataLoader(dataset, batch_size, shuffle, drop_last, generator), len(loader),
and batches that keep the dataset's dtypes (float32 images, int64 labels)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

import tinygrad_edu as torch
from tinygrad_edu.data import DataLoader, Dataset, TensorDataset, random_split


def _images_and_labels(n: int = 10) -> TensorDataset:
    images = torch.arange(n * 4, dtype=torch.float32).view(n, 1, 2, 2)
    labels = torch.arange(n) % 3
    return TensorDataset(images, labels)


def test_tensor_dataset_rows() -> None:
    ds = _images_and_labels()
    assert len(ds) == 10
    image, label = ds[3]
    assert image.shape == (1, 2, 2) and image.dtype == torch.float32
    assert label.item() == 0 and label.dtype == torch.int64
    with pytest.raises(ValueError, match=r"TensorDataset: size mismatch between tensors: "
                                         r"shapes \(3, 2\), \(4,\)"):
        TensorDataset(torch.zeros(3, 2), torch.zeros(4))


@pytest.mark.parametrize(("n", "batch_size", "drop_last", "length", "sizes"), [
    (10, 4, False, 3, [4, 4, 2]), (10, 4, True, 2, [4, 4]), (8, 4, False, 2, [4, 4]),
    (3, 5, False, 1, [3]), (3, 5, True, 0, []),
])
def test_len_and_batch_sizes(n: int, batch_size: int, drop_last: bool, length: int,
                             sizes: list[int]) -> None:
    loader = DataLoader(_images_and_labels(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == length
    assert [images.size(0) for images, _ in loader] == sizes


def test_batches_keep_the_dataset_dtypes() -> None:
    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32)).unsqueeze(1)
    labels = torch.from_numpy(digits.target).long()
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)
    xb, yb = next(iter(loader))
    assert (xb.shape, xb.dtype) == ((64, 1, 8, 8), torch.float32)
    assert (yb.shape, yb.dtype) == ((64,), torch.int64)
    assert not xb.requires_grad and len(loader) == -(-len(digits.target) // 64)


def test_without_shuffle_the_order_is_kept() -> None:
    loader = DataLoader(_images_and_labels(), batch_size=4)
    labels = torch.cat([y for _, y in loader])
    assert labels.tolist() == [i % 3 for i in range(10)]


def test_shuffle_visits_every_sample_once_per_epoch() -> None:
    ds = TensorDataset(torch.arange(20))
    loader = DataLoader(ds, batch_size=6, shuffle=True)
    epochs = [torch.cat([batch for (batch,) in loader]).tolist() for _ in range(2)]
    assert all(sorted(order) == list(range(20)) for order in epochs)
    assert epochs[0] != epochs[1] and epochs[0] != list(range(20))


def test_shuffle_is_reproducible_with_a_generator_or_manual_seed() -> None:
    ds = TensorDataset(torch.arange(30))

    def order(loader: DataLoader) -> list[int]:
        return torch.cat([batch for (batch,) in loader]).tolist()

    a = DataLoader(ds, batch_size=7, shuffle=True, generator=torch.Generator().manual_seed(3))
    b = DataLoader(ds, batch_size=7, shuffle=True, generator=torch.Generator().manual_seed(3))
    assert order(a) == order(b) and order(a) == order(b)  # epoch by epoch
    c = DataLoader(ds, batch_size=7, shuffle=True)
    torch.manual_seed(0)
    first = order(c)
    torch.manual_seed(0)
    assert order(c) == first


class Squares(Dataset):
    """A map-style dataset returning numpy samples and Python ints."""

    def __len__(self) -> int:
        return 5

    def __getitem__(self, i: int) -> tuple[np.ndarray, int, float]:
        return np.full((2,), i, dtype=np.float32), i * i, float(i) / 2


def test_a_custom_dataset_is_collated_as_pytorch_does() -> None:
    loader = DataLoader(Squares(), batch_size=2)
    x, y, z = next(iter(loader))
    assert (x.dtype, x.shape) == (torch.float32, (2, 2))
    assert (y.dtype, y.tolist()) == (torch.int64, [0, 1])
    assert (z.dtype, z.tolist()) == (torch.float64, [0.0, 0.5])  # Python floats: float64
    assert len(loader) == 3
    # batch_size=None: PyTorch's default_convert, so the array becomes a Tensor, the
    # Python numbers stay numbers and the tuple becomes a list.
    single = next(iter(DataLoader(Squares(), batch_size=None)))
    assert type(single) is list and single[0].shape == (2,)
    assert type(single[1]) is int and single[1] == 0


def test_random_split() -> None:
    train, val = random_split(_images_and_labels(), [7, 3],
                              generator=torch.Generator().manual_seed(0))
    assert len(train) == 7 and len(val) == 3
    seen = torch.cat([y for _, y in DataLoader(train, batch_size=7)]).tolist() + [
        val[i][1].item() for i in range(3)]
    assert sorted(seen) == sorted(i % 3 for i in range(10))


def test_loader_errors_name_the_loader() -> None:
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int or "
                                         "None, got 0"):
        DataLoader(_images_and_labels(), batch_size=0)
    with pytest.raises(TypeError, match="DataLoader: dataset must define __len__ and "
                                        "__getitem__"):
        DataLoader(42, batch_size=1)
