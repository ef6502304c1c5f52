"""tinygrad_edu.data, in-memory part: Dataset/TensorDataset/Subset/random_split, DataLoader,
collate, splits, preprocessing, one_hot, synthetic and scikit-learn sets.

Written as a PyTorch user writes code (`import tinygrad_edu as torch`)."""

from __future__ import annotations

import sys
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as torch
from tinygrad_edu.data import (
    ChannelNormalizer,
    ConcatDataset,
    DataLoader,
    Dataset,
    MeanImage,
    Splits,
    Standardizer,
    Subset,
    TensorDataset,
    course_split,
    default_collate,
    load_dataset,
    load_digits,
    load_iris,
    make_blobs,
    make_moons,
    make_spirals,
    normalize_channels,
    one_hot,
    random_split,
    split_indices,
    standardize,
    subtract_mean_image,
    train_val_test_split,
)


def _xy(n: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 2, 2), dtype=np.float32), rng.integers(0, 3, n).astype(np.int64)


class ListDataset(Dataset):
    """A plain map-style dataset (no batch fetch), for the generic DataLoader path."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.int64]:
        return self.X[i], self.y[i]


# ------------------------------------------------------------------ datasets
def test_tensor_dataset_samples_keep_dtypes() -> None:
    X, y = _xy()
    for ds in (TensorDataset(X, y), TensorDataset(torch.from_numpy(X), torch.tensor(y))):
        assert len(ds) == 10
        x3, y3 = ds[3]
        assert isinstance(x3, torch.Tensor) and x3.dtype == np.float32 and x3.shape == (1, 2, 2)
        assert y3.dtype == np.int64 and y3.shape == () and y3.item() == y[3]
        np.testing.assert_array_equal(x3.numpy(), X[3])
        xb, yb = ds[np.array([4, 1])]
        np.testing.assert_array_equal(xb.numpy(), X[[4, 1]])
        np.testing.assert_array_equal(yb.numpy(), y[[4, 1]])


def test_tensor_dataset_errors() -> None:
    X, y = _xy()
    with pytest.raises(ValueError, match=r"TensorDataset: size mismatch.*\(10, 1, 2, 2\), \(9,\)"):
        TensorDataset(X, y[:9])
    with pytest.raises(ValueError, match="TensorDataset: argument 1 is 0-d"):
        TensorDataset(X, np.array(3))
    with pytest.raises(TypeError, match="TensorDataset: argument 0 must be a Tensor or a numpy"):
        TensorDataset([1, 2, 3])
    with pytest.raises(ValueError, match="TensorDataset: needs at least one"):
        TensorDataset()


def test_base_dataset_requires_getitem() -> None:
    with pytest.raises(NotImplementedError, match="Dataset must define __getitem__"):
        Dataset()[0]


def test_subset_concat_and_random_split() -> None:
    X, y = _xy(10)
    ds = TensorDataset(X, y)
    sub = Subset(ds, [7, 2, -1])
    assert len(sub) == 3 and sub[2][1].item() == y[9]
    np.testing.assert_array_equal(sub[1][0].numpy(), X[2])
    with pytest.raises(IndexError, match=r"Subset: indices must lie in \[-10, 10\)"):
        Subset(ds, [10])
    both = ConcatDataset([ds, sub])
    assert len(both) == 13 and both[11][1].item() == y[2] and (ds + sub)[-1][1].item() == y[9]
    with pytest.raises(IndexError, match="ConcatDataset: index 13 out of range"):
        both[13]

    parts = random_split(ds, [6, 3, 1], seed=5)
    assert [len(p) for p in parts] == [6, 3, 1]
    joined = np.concatenate([p.indices for p in parts])
    assert sorted(joined.tolist()) == list(range(10))
    again = random_split(ds, [6, 3, 1], generator=torch.Generator().manual_seed(5))
    assert all((a.indices == b.indices).all() for a, b in zip(parts, again))
    assert [len(p) for p in random_split(ds, [0.5, 0.3, 0.2], seed=0)] == [5, 3, 2]
    with pytest.raises(ValueError, match=r"random_split: lengths \[6, 3\] sum to 9, but the "
                                         r"dataset has 10"):
        random_split(ds, [6, 3])


# ------------------------------------------------------------------ DataLoader
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       shuffle=st.booleans())
def test_loader_len_and_coverage(n: int, batch_size: int, drop_last: bool, shuffle: bool
                                 ) -> None:
    X = np.arange(n, dtype=np.float32)[:, None]
    y = np.arange(n, dtype=np.int64)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last, seed=1)
    batches = list(loader)
    assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    seen = np.concatenate([b[1].numpy() for b in batches]) if batches else np.array([], int)
    sizes = [len(b[1]) for b in batches]
    assert all(s == batch_size for s in sizes[:-1])
    if drop_last:
        assert len(seen) == (n // batch_size) * batch_size and len(set(seen)) == len(seen)
    else:
        assert sorted(seen.tolist()) == list(range(n))
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))
    for xb, yb in batches:  # features travel with their labels
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy().astype(np.float32))


def test_loader_yields_tensors_with_dataset_dtypes() -> None:
    X, y = _xy(20)
    for dataset in (TensorDataset(X, y), ListDataset(X, y)):
        xb, yb = next(iter(DataLoader(dataset, batch_size=8, shuffle=True, seed=0)))
        assert isinstance(xb, torch.Tensor) and isinstance(yb, torch.Tensor)
        assert xb.dtype == np.float32 and xb.shape == (8, 1, 2, 2)
        assert yb.dtype == np.int64 and yb.shape == (8,)
        assert not xb.requires_grad


def test_loader_shuffle_is_deterministic_and_changes_every_epoch() -> None:
    X, y = _xy(50)
    ds = TensorDataset(X, np.arange(50))

    def epochs(loader: DataLoader, k: int = 3) -> list[list[int]]:
        return [np.concatenate([b[1].numpy() for b in loader]).tolist() for _ in range(k)]

    a = epochs(DataLoader(ds, batch_size=16, shuffle=True, seed=3))
    b = epochs(DataLoader(ds, batch_size=16, shuffle=True, seed=3))
    assert a == b
    assert a[0] != a[1] and a[1] != a[2]
    assert a != epochs(DataLoader(ds, batch_size=16, shuffle=True, seed=4))
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    ga = epochs(DataLoader(ds, batch_size=16, shuffle=True, generator=g1))
    assert ga == epochs(DataLoader(ds, batch_size=16, shuffle=True, generator=g2))
    assert ga[0] != ga[1]
    torch.manual_seed(11)
    d1 = epochs(DataLoader(ds, batch_size=16, shuffle=True), 2)
    torch.manual_seed(11)
    assert d1 == epochs(DataLoader(ds, batch_size=16, shuffle=True), 2)
    loader = DataLoader(ds, batch_size=16, shuffle=True, seed=3)
    loader.set_epoch(2)
    assert epochs(loader, 1)[0] == a[2]


def test_generic_path_matches_fast_path() -> None:
    X, y = _xy(23)
    fast = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, seed=9)
    slow = DataLoader(ListDataset(X, y), batch_size=5, shuffle=True, seed=9)
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
    parts = random_split(TensorDataset(X, y), [13, 10], seed=0)
    xb, yb = next(iter(DataLoader(parts[1], batch_size=10)))
    np.testing.assert_array_equal(yb.numpy(), y[parts[1].indices])


def test_fast_path_does_not_touch_per_sample_getitem() -> None:
    class NoItems(TensorDataset):
        def __getitem__(self, index: object) -> tuple[torch.Tensor, ...]:
            raise AssertionError("per-sample __getitem__ called on the fast path")

    X, y = _xy(40)
    loader = DataLoader(NoItems(X, y), batch_size=7, shuffle=True, seed=0)
    assert sum(len(b[1]) for b in loader) == 40
    assert sum(len(b[1]) for b in DataLoader(Subset(NoItems(X, y), range(30)), batch_size=7)) \
        == 30


def test_batches_do_not_alias_the_dataset() -> None:
    X, y = _xy(8)
    xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    xb.numpy()[...] = -1.0
    assert X.min() >= 0.0


def test_loader_options_and_errors() -> None:
    X, y = _xy(6)
    ds = TensorDataset(X, y)
    samples = list(DataLoader(ds, batch_size=None))
    assert len(samples) == 6 and samples[2][0].shape == (1, 2, 2) and samples[2][1].shape == ()
    got = list(DataLoader(ds, batch_size=4, collate_fn=lambda items: len(items)))
    assert got == [4, 2]
    assert len(DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True)) == 2
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int or "
                                         "None, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="DataLoader: pass either generator= or seed="):
        DataLoader(ds, generator=torch.Generator(), seed=1)
    with pytest.raises(TypeError, match="DataLoader: dataset must define __len__"):
        DataLoader(42)


def test_default_collate_rules() -> None:
    Pair = namedtuple("Pair", "a b")
    out = default_collate([{"x": 1, "f": 0.5, "s": "u", "p": Pair(True, np.float32(2))},
                           {"x": 2, "f": 1.5, "s": "v", "p": Pair(False, np.float32(3))}])
    assert out["x"].dtype == np.int64 and out["x"].tolist() == [1, 2]
    assert out["f"].dtype == np.float64  # PyTorch's rule for Python floats
    assert out["s"] == ["u", "v"]
    assert isinstance(out["p"], Pair) and out["p"].a.dtype == np.bool_
    assert out["p"].b.dtype == np.float32
    with pytest.raises(ValueError, match=r"default_collate: samples have different shapes "
                                         r"\[\(2,\), \(3,\)\]"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="default_collate: cannot batch samples of type object"):
        default_collate([object()])
    with pytest.raises(ValueError, match="different numbers of fields"):
        default_collate([(1, 2), (1,)])


def test_pytorch_style_training_loop_runs() -> None:
    torch.manual_seed(0)
    X = torch.randn(64, 3)
    y = (X.numpy()[:, 0] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(X, torch.tensor(y)), batch_size=16, shuffle=True)
    w = torch.zeros(3, 2, requires_grad=True)
    for xb, yb in loader:
        logits = xb @ w
        loss = -(logits.log_softmax(dim=1)[np.arange(len(yb)), yb.numpy()]).mean()
        loss.backward()
    assert w.grad is not None and w.grad.shape == (3, 2)


# ------------------------------------------------------------------ splits
@given(n=st.integers(10, 60), val=st.integers(0, 5), test=st.integers(0, 5),
       seed=st.integers(0, 3))
def test_split_indices_partition_and_stable_test_part(n: int, val: int, test: int, seed: int
                                                      ) -> None:
    train, va, te = split_indices(n, val, test, seed)
    assert (len(train), len(va), len(te)) == (n - val - test, val, test)
    assert sorted(np.concatenate([train, va, te]).tolist()) == list(range(n))
    assert all((np.diff(p) > 0).all() for p in (train, va, te))
    _, _, te_no_val = split_indices(n, 0, test, seed)
    np.testing.assert_array_equal(te, te_no_val)  # val_size never moves the test set


def test_split_errors_and_fractions() -> None:
    assert [len(p) for p in split_indices(100, 0.1, 0.25)] == [65, 10, 25]
    with pytest.raises(ValueError, match="split: val_size 6 \\+ test_size 5 exceed the 10"):
        split_indices(10, 6, 5)
    with pytest.raises(ValueError, match=r"split: test_size must be an int in \[0, 10\]"):
        split_indices(10, 1, 11)


def test_course_split_is_sequential() -> None:
    X = np.arange(20, dtype=np.float32)[:, None]
    y = np.arange(20) % 10
    s = course_split(X, y, X[:6] + 100, y[:6], num_training=12, num_validation=3, num_test=4)
    assert s.sizes == (12, 3, 4)
    assert s.X_val[:, 0].tolist() == [12, 13, 14] and s.X_test[0, 0] == 100
    with pytest.raises(ValueError, match="course_split: asked for 18 train \\+ 3 val from 20"):
        course_split(X, y, X, y, num_training=18, num_validation=3, num_test=1)


def test_splits_record_helpers() -> None:
    X, y = _xy(40)
    s = train_val_test_split(X, y, val_size=5, test_size=10, seed=1, class_names="abc",
                             name="toy")
    assert s.sizes == (25, 5, 10) and s.input_shape == (1, 2, 2) and s.num_classes == 3
    assert set(s.as_dict()) == {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"}
    assert s.flatten().X_test.shape == (10, 4)
    assert len(s.datasets()[1]) == 5 and len(s.loader("train", batch_size=10)) == 3
    assert "toy: train 25, val 5, test 10" in repr(s)
    centred = s.preprocess("mean_image")
    np.testing.assert_allclose(centred.X_train.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(centred.X_test, s.X_test - s.X_train.mean(axis=0), atol=1e-6)
    with pytest.raises(ValueError, match="Splits.preprocess: kind must be one of"):
        s.preprocess("whiten")
    with pytest.raises(ValueError, match="Splits.loader: split must be"):
        s.loader("dev")


# ------------------------------------------------------------------ preprocessing
def test_mean_image_and_standardizer_fit_on_train_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, (50, 4)).astype(np.float32)
    train[:, 2] = 7.0  # a constant feature
    test = rng.normal(3.0, 2.0, (20, 4)).astype(np.float32)
    tr, te = standardize(train, test)
    assert tr.dtype == np.float32
    np.testing.assert_allclose(tr.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(tr[:, [0, 1, 3]].std(0), 1, atol=1e-5)
    assert (tr[:, 2] == 0).all()
    expected = (test - train.mean(0)) / np.where(train.std(0) > 0, train.std(0), 1)
    np.testing.assert_allclose(te, expected, rtol=1e-5, atol=1e-5)
    sc = Standardizer().fit(train)
    np.testing.assert_allclose(sc.inverse_transform(sc(test)), test, rtol=1e-5, atol=1e-5)
    tr_m, te_m = subtract_mean_image(train, test)
    np.testing.assert_allclose(te_m, test - train.mean(0), atol=1e-5)
    with pytest.raises(RuntimeError, match="Standardizer: call fit"):
        Standardizer().transform(train)
    with pytest.raises(ValueError, match=r"MeanImage: fitted on samples of shape \(4,\), got an "
                                         r"array of shape \(3, 5\)"):
        MeanImage().fit(train).transform(np.zeros((3, 5)))
    assert subtract_mean_image(np.ones((2, 3), np.uint8))[0].dtype == np.float32


def test_channel_normalization() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal([1.0, -2.0, 5.0], [1.0, 3.0, 0.5], (30, 4, 4, 3)).astype(np.float32)
    nchw = X.transpose(0, 3, 1, 2)
    (a,) = normalize_channels(nchw)
    np.testing.assert_allclose(a.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(a.std(axis=(0, 2, 3)), 1, atol=1e-4)
    (b,) = normalize_channels(X, channel_axis=-1)
    np.testing.assert_allclose(b, a.transpose(0, 2, 3, 1), atol=1e-5)
    fixed = ChannelNormalizer(mean=(0.5,), std=(0.25,)).fit(nchw[:, :1])
    np.testing.assert_allclose(fixed(nchw[:, :1]), (nchw[:, :1] - 0.5) / 0.25, atol=1e-5)
    with pytest.raises(ValueError, match="ChannelNormalizer: 3 channel statistics but"):
        ChannelNormalizer().fit(nchw).transform(nchw[:, :2])
    with pytest.raises(ValueError, match="ChannelNormalizer: give both mean and std"):
        ChannelNormalizer(mean=0.1)


def test_one_hot() -> None:
    y = np.array([2, 0, 1, 2])
    oh = one_hot(y)
    assert oh.dtype == np.int64 and oh.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    t = one_hot(torch.tensor([1, 3]), num_classes=5, dtype=np.float32)
    assert isinstance(t, torch.Tensor) and t.dtype == np.float32 and t.shape == (2, 5)
    assert t.numpy()[1, 3] == 1 and t.numpy().sum() == 2
    with pytest.raises(ValueError, match=r"one_hot: label 3 is out of range for num_classes=3 "
                                         r"\(valid: 0..2\)"):
        one_hot(np.array([3]), 3)
    with pytest.raises(TypeError, match="one_hot: labels must be integers, got dtype float64"):
        one_hot(np.array([1.0]))
    with pytest.raises(ValueError, match="one_hot: labels must be non-negative"):
        one_hot(np.array([-1]))


# ------------------------------------------------------------------ synthetic and sklearn sets
def test_spirals_geometry_and_determinism() -> None:
    X, y = make_spirals(50, 4, noise=0.3, seed=2)
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50] * 4
    # Noise moves only the angle: every point keeps its radius r = linspace(0, 1, n).
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), np.tile(np.linspace(0, 1, 50), 4),
                               atol=1e-6)
    X2, y2 = make_spirals(50, 4, noise=0.3, seed=2)
    assert (X == X2).all() and (y == y2).all()
    assert not (make_spirals(50, 4, noise=0.3, seed=3)[0] == X).all()
    with pytest.raises(ValueError, match="make_spirals: n_per_class and n_classes must be >= 1"):
        make_spirals(0)


def test_moons_and_blobs() -> None:
    X, y = make_moons(101, noise=0.0, seed=0, shuffle=False)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1, 0.5], axis=1), 1, atol=1e-6)
    assert (make_moons(seed=4)[0] == make_moons(seed=4)[0]).all()
    centres = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    Xb, yb = make_blobs(1001, centers=centres, cluster_std=0.5, seed=1)
    assert Xb.shape == (1001, 3) and np.bincount(yb).tolist() == [501, 500]
    np.testing.assert_allclose(Xb[yb == 1].mean(0), 10, atol=0.1)
    with pytest.raises(ValueError, match=r"make_blobs: n_samples \(1\) must be >= the number"):
        make_blobs(1, centers=2)


def test_sklearn_sets_and_missing_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y, names = load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float32 and np.bincount(y).tolist() == [50] * 3
    assert names == ("setosa", "versicolor", "virginica")
    D, t, _ = load_digits()
    assert D.shape == (1797, 1, 8, 8) and 0 <= D.min() and D.max() == 1.0
    assert load_digits(flatten=True)[0].shape == (1797, 64)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(ImportError, match="load_iris: the iris dataset comes from scikit-learn, "
                                          "which is not installed; install it with"):
        load_iris()
    with pytest.raises(ImportError, match="load_digits"):
        load_dataset("digits")
    assert load_dataset("spirals").sizes == (210, 30, 60)  # still works without sklearn


def test_load_dataset_in_memory_sets() -> None:
    iris = load_dataset("iris")
    assert isinstance(iris, Splits) and iris.sizes == (90, 30, 30) and iris.input_shape == (4,)
    np.testing.assert_allclose(iris.X_train.mean(0), 0, atol=1e-5)  # standardized on train
    assert load_dataset("Iris", preprocess=None).X_train.min() > 0
    digits = load_dataset("digits", flatten=True)
    assert digits.input_shape == (64,) and digits.class_names[3] == "3"
    sp = load_dataset("spirals", n_per_class=20, n_classes=5, val_size=0.2, test_size=0.2)
    assert sp.sizes == (60, 20, 20) and sp.num_classes == 5
    blobs_a, blobs_b = load_dataset("blobs", seed=3), load_dataset("blobs", seed=3)
    assert (blobs_a.X_test == blobs_b.X_test).all()
    with pytest.raises(ValueError, match="load_dataset: unknown dataset 'svhn'; choose from "
                                         "mnist, fashion-mnist"):
        load_dataset("svhn")
    with pytest.raises(TypeError, match=r"load_dataset\('iris'\): unexpected options "
                                        r"\['layout'\]"):
        load_dataset("iris", layout="nchw")
    with pytest.raises(TypeError, match=r"load_dataset\('moons'\): bad option for make_moons"):
        load_dataset("moons", n_per_class=3)
