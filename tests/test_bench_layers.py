"""Smoke test of benchmarks/bench_layers.py, numpy only: every row runs on tiny sizes as
`--no-torch` runs it, its timings are finite, and the first tinygrad_edu step's loss and
gradients (the optimizer rows: the update) are finite and not all zero. Timings are never
asserted. The weights a row hands on (what the PyTorch rows load) rebuild the same step,
and the agreement check refuses a difference."""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import tinygrad_edu

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """bench_layers as its scripts import each other: `common` and `tables` from the
    benchmarks folder."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("bench_layers")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def rows(bench: ModuleType) -> tuple[dict, dict]:
    return bench.layer_rows(bench.OURS, tinygrad_edu, 1, tiny=True)  # type: ignore[no-any-return]


def test_every_row_runs_with_finite_timings(bench: ModuleType, rows: tuple[dict, dict]) -> None:
    measured, states = rows
    assert list(measured) == list(bench.CASES) == list(states)
    for name, m in measured.items():
        assert m.timing.times, name
        assert all(math.isfinite(t) and t > 0 for t in m.timing.times), (name, m.timing.times)
        assert math.isfinite(m.timing.value), name


def test_first_step_loss_and_gradients_are_finite(rows: tuple[dict, dict]) -> None:
    measured, _ = rows
    for name, m in measured.items():
        optimizer = name in ("nadam", "radam")
        assert (m.loss is None) == optimizer, name
        if not optimizer:
            assert math.isfinite(m.loss), (name, m.loss)
        assert m.arrays, name
        for a in m.arrays:
            assert a.size and np.isfinite(a).all(), (name, a)
        # every gradient (update) reached: a step that left one at zero measured less work
        assert all(np.any(a != 0) for a in m.arrays), name


def test_handed_on_weights_are_the_ones_loaded(bench: ModuleType, rows: tuple[dict, dict]
                                               ) -> None:
    """The PyTorch rows load the weights a tinygrad_edu row used: a row given other weights
    (ours scaled by 1.5) runs with exactly those, and its step changes with them."""
    measured, states = rows
    scaled = {n: {k: v * np.float32(1.5) for k, v in st.items()} for n, st in states.items()}
    again, used = bench.layer_rows(bench.OURS, tinygrad_edu, 1, tiny=True, states=scaled)
    for name, state in scaled.items():
        assert list(used[name]) == list(state), name
        for k, v in state.items():
            np.testing.assert_array_equal(used[name][k], v, err_msg=f"{name}: {k}")
        if state and measured[name].loss is not None:  # a layer's step changes with its
            # weights (an optimizer's update does not: it depends on the gradients)
            with pytest.raises(SystemExit, match="disagree"):
                bench.check(name, measured[name], again[name])
    assert sum(bool(st) for st in scaled.values()) == len(scaled) - 2  # interpolate, pool


def test_rows_repeat_exactly(bench: ModuleType, rows: tuple[dict, dict]) -> None:
    """Every run starts from the same weights and data: a second run's first step is the
    first run's, bit for bit (whatever the global seed was in between)."""
    measured, states = rows
    tinygrad_edu.manual_seed(12345)
    again, used = bench.layer_rows(bench.OURS, tinygrad_edu, 1, tiny=True)
    for name in measured:
        assert used[name].keys() == states[name].keys(), name
        for k in states[name]:
            np.testing.assert_array_equal(used[name][k], states[name][k], err_msg=name)
        assert again[name].loss == measured[name].loss, name
        for a, b in zip(again[name].arrays, measured[name].arrays):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_check_refuses_a_difference(bench: ModuleType, rows: tuple[dict, dict]) -> None:
    m = rows[0]["lstm"]
    off = bench.Measured(m.timing, m.loss, [a * 1.01 for a in m.arrays])
    with pytest.raises(SystemExit, match="lstm: PyTorch and tinygrad_edu disagree"):
        bench.check("lstm", m, off)


def test_table_without_torch_has_one_column_and_every_row(bench: ModuleType,
                                                          rows: tuple[dict, dict]) -> None:
    table = bench.make_table(rows[0], {}, "median")
    assert table.columns == [bench.OURS] and table.ratios == []
    assert [r.label for r in table.rows] == [c.label for c in bench.CASES.values()]
    text = table.markdown()
    assert "PyTorch" not in text.splitlines()[2]  # the header row
    assert all(c.label in text for c in bench.CASES.values())
