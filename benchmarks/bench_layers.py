"""The layers added for issue 19: one training step of each, tinygrad_edu beside PyTorch CPU.

A step is what training pays per batch: the layer's forward, a scalar loss
`(output * w).sum()` with a fixed random `w` (so every gradient is a different number, not
the ones of a plain sum that normalization layers turn into zeros), and `backward()` into
the parameters and every float input; gradients are set to None first. The optimizer rows
time `opt.step()` alone, on the parameters of a 784-256-10 MLP with gradients given. Both
libraries build the layer from the same code (tinygrad_edu spells PyTorch's names), see the
same data and the same weights (PyTorch's module loads our state dict), and one step of each
must give the same loss and gradients before anything is timed. float32 throughout.

    .venv/bin/python benchmarks/bench_layers.py [--repeats N] [--quick] [--no-torch]
                                                [--threads N] [--stat median|min]

Every tinygrad_edu row runs first, the PyTorch rows last (common.py says why). `--quick`
takes fewer repeats of the same sizes. Use `--threads 1` on a shared machine (bench_core.py
says why); `tests/test_bench_layers.py` runs these rows on tiny sizes, without torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import ResultTable, Timing, benchmark_main, measure

OURS, TORCH = "tinygrad_edu", "PyTorch"
TOLERANCE = 2e-3  # float32, relative to the largest magnitude of each array compared
Sizes = dict[str, int]


@dataclass
class Step:
    """One case built for one library: `run()` does one timed step; `result()` gives the
    arrays the two libraries must agree on (gradients, or the update of an optimizer
    step); `state` holds the weights as numpy arrays, for the other library to load."""

    run: Callable[[], Any]
    result: Callable[[], list[np.ndarray]]
    state: dict[str, np.ndarray]


@dataclass
class Measured:
    """A case's timing and its first step's loss (None for an optimizer step) and arrays."""

    timing: Timing
    loss: float | None
    arrays: list[np.ndarray]


def _numpy(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _load(lib: Any, module: Any, state: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Load `state` into `module` (when given); return the module's state as numpy."""
    if state is not None:
        module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    return {k: _numpy(v) for k, v in module.state_dict().items()}


def training_step(lib: Any, module: Any, forward: Callable[..., Any],
                  inputs: Sequence[np.ndarray], state: dict[str, np.ndarray] | None,
                  seed: int) -> Step:
    """forward(*inputs) -> (output * w).sum() -> backward, into the module's parameters
    and the float inputs; `seed` draws w. `module` may be None (a function such as
    F.interpolate)."""
    loaded = _load(lib, module, state) if module is not None else {}
    params = list(module.parameters()) if module is not None else []
    xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    leaves = params + [x for x in xs if x.requires_grad]
    with lib.no_grad():
        shape = tuple(forward(*xs).shape)
    w = lib.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))

    def run() -> Any:
        for t in leaves:
            t.grad = None
        loss = (forward(*xs) * w).sum()
        loss.backward()
        return loss

    return Step(run, lambda: [_numpy(t.grad) for t in leaves], loaded)


# ----------------------------------------------------------------------------- the cases
# Each builder: (lib, sizes, state, rng) -> Step, where lib is tinygrad_edu or torch. The
# rng is a fresh one with the same seed for every case and library, so both libraries
# draw the same inputs.

Builder = Callable[[Any, Sizes, Any, np.random.Generator], Step]


def _normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def recurrent(kind: str) -> Builder:
    def build(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
        net = getattr(lib.nn, kind)(s["input"], s["hidden"], num_layers=s["layers"])
        x = _normal(rng, s["seq"], s["batch"], s["input"])
        return training_step(lib, net, lambda x: net(x)[0], [x], state, 1)
    return build


def attention(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    mha = lib.nn.MultiheadAttention(s["embed"], s["heads"], batch_first=True)
    x = _normal(rng, s["batch"], s["seq"], s["embed"])
    return training_step(lib, mha, lambda x: mha(x, x, x, need_weights=False)[0], [x], state, 2)


def encoder_layer(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    layer = lib.nn.TransformerEncoderLayer(s["embed"], s["heads"], dim_feedforward=s["ff"],
                                           dropout=0.0, batch_first=True)
    x = _normal(rng, s["batch"], s["seq"], s["embed"])
    return training_step(lib, layer, layer, [x], state, 3)


def conv_transpose(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    conv = lib.nn.ConvTranspose2d(s["cin"], s["cout"], 3, stride=2, padding=1, output_padding=1)
    x = _normal(rng, s["batch"], s["cin"], s["size"], s["size"])
    return training_step(lib, conv, conv, [x], state, 4)


def conv3d(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    conv = lib.nn.Conv3d(s["cin"], s["cout"], 3, padding=1)
    x = _normal(rng, s["batch"], s["cin"], s["depth"], s["size"], s["size"])
    return training_step(lib, conv, conv, [x], state, 5)


def embedding(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    emb = lib.nn.Embedding(s["vocab"], s["dim"])
    idx = rng.integers(0, s["vocab"], (s["batch"], s["seq"])).astype(np.int64)
    return training_step(lib, emb, emb, [idx], state, 6)


def group_norm(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    norm = lib.nn.GroupNorm(s["groups"], s["channels"])
    x = _normal(rng, s["batch"], s["channels"], s["size"], s["size"])
    return training_step(lib, norm, norm, [x], state, 7)


def interpolate(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    F = lib.nn.functional
    x = _normal(rng, s["batch"], s["channels"], s["size"], s["size"])
    return training_step(lib, None, lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
                         [x], state, 8)


def adaptive_pool(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
    pool = lib.nn.AdaptiveAvgPool2d(s["out"])
    x = _normal(rng, s["batch"], s["channels"], s["size"], s["size"])
    return training_step(lib, pool, pool, [x], state, 9)


def optimizer(name: str) -> Builder:
    """`opt.step()` alone on an MLP's parameters with fixed gradients; the step counter and
    moments keep advancing from repeat to repeat, as in training."""
    def build(lib: Any, s: Sizes, state: Any, rng: np.random.Generator) -> Step:
        mlp = lib.nn.Sequential(lib.nn.Linear(s["in"], s["hidden"]), lib.nn.ReLU(),
                                lib.nn.Linear(s["hidden"], s["out"]))
        loaded = _load(lib, mlp, state)
        params = list(mlp.parameters())
        for p in params:
            p.grad = lib.tensor(_normal(rng, *p.shape))
        opt = getattr(lib.optim, name)(params)
        before = [_numpy(p) for p in params]
        # compared: the update (a wrong step size hides in the parameters themselves)
        return Step(opt.step, lambda: [_numpy(p) - b for p, b in zip(params, before)], loaded)
    return build


@dataclass(frozen=True)
class Case:
    label: str
    build: Builder
    sizes: Sizes  # the benchmark's
    tiny: Sizes  # the smoke test's


RNN_SIZES = {"input": 32, "hidden": 128, "layers": 2, "batch": 32, "seq": 35}
RNN_TINY = {"input": 3, "hidden": 4, "layers": 2, "batch": 2, "seq": 3}
ATTN_SIZES = {"embed": 128, "heads": 4, "ff": 256, "batch": 16, "seq": 64}
ATTN_TINY = {"embed": 8, "heads": 2, "ff": 8, "batch": 2, "seq": 3}
MLP_SIZES, MLP_TINY = {"in": 784, "hidden": 256, "out": 10}, {"in": 5, "hidden": 4, "out": 3}
CASES = {
    "lstm": Case("nn.LSTM(32, 128, num_layers=2), x (35, 32, 32)", recurrent("LSTM"),
                 RNN_SIZES, RNN_TINY),
    "gru": Case("nn.GRU, same sizes", recurrent("GRU"), RNN_SIZES, RNN_TINY),
    "rnn": Case("nn.RNN (tanh), same sizes", recurrent("RNN"), RNN_SIZES, RNN_TINY),
    "mha": Case("nn.MultiheadAttention(128, 4), self-attention, x (16, 64, 128)", attention,
                ATTN_SIZES, ATTN_TINY),
    "encoder": Case("nn.TransformerEncoderLayer(128, 4, 256, dropout=0), x (16, 64, 128)",
                    encoder_layer, ATTN_SIZES, ATTN_TINY),
    "convt": Case("nn.ConvTranspose2d(16, 8, 3, stride 2, pad 1, out pad 1), x (32, 16, 14, 14)",
                  conv_transpose, {"cin": 16, "cout": 8, "batch": 32, "size": 14},
                  {"cin": 2, "cout": 3, "batch": 2, "size": 3}),
    "conv3d": Case("nn.Conv3d(4, 8, 3, padding=1), x (8, 4, 8, 16, 16)", conv3d,
                   {"cin": 4, "cout": 8, "batch": 8, "depth": 8, "size": 16},
                   {"cin": 2, "cout": 2, "batch": 2, "depth": 3, "size": 3}),
    "embedding": Case("nn.Embedding(10000, 128), indices (32, 35)", embedding,
                      {"vocab": 10000, "dim": 128, "batch": 32, "seq": 35},
                      {"vocab": 7, "dim": 3, "batch": 2, "seq": 4}),
    "groupnorm": Case("nn.GroupNorm(4, 32), x (32, 32, 16, 16)", group_norm,
                      {"groups": 4, "channels": 32, "batch": 32, "size": 16},
                      {"groups": 2, "channels": 4, "batch": 2, "size": 3}),
    "interpolate": Case("F.interpolate(x, scale_factor=2, mode='bilinear'), x (16, 8, 32, 32)",
                        interpolate, {"batch": 16, "channels": 8, "size": 32},
                        {"batch": 2, "channels": 2, "size": 3}),
    "adaptive": Case("nn.AdaptiveAvgPool2d(7), x (16, 32, 28, 28)", adaptive_pool,
                     {"out": 7, "batch": 16, "channels": 32, "size": 28},
                     {"out": 2, "batch": 2, "channels": 2, "size": 5}),
    "nadam": Case("optim.NAdam step, MLP 784-256-10 (step only)", optimizer("NAdam"),
                  MLP_SIZES, MLP_TINY),
    "radam": Case("optim.RAdam step, MLP 784-256-10 (step only)", optimizer("RAdam"),
                  MLP_SIZES, MLP_TINY),
}


# ----------------------------------------------------------------------------- rows


def check(name: str, ours: Measured, theirs: Measured) -> float:
    """The worst relative difference between the two libraries' first steps; exits when it
    is above TOLERANCE (timing two different computations would mean nothing)."""
    pairs = list(zip(ours.arrays, theirs.arrays))
    if ours.loss is not None and theirs.loss is not None:
        pairs.append((np.array([ours.loss]), np.array([theirs.loss])))
    worst = 0.0
    for a, b in pairs:
        if a.shape != b.shape:
            raise SystemExit(f"bench_layers: {name}: shapes differ, {a.shape} vs {b.shape}")
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        worst = max(worst, float(np.max(np.abs(a - b))) / (scale + 1e-12) if b.size else 0.0)
    if worst > TOLERANCE:
        raise SystemExit(f"bench_layers: {name}: PyTorch and tinygrad_edu disagree "
                         f"(relative difference {worst:.2e})")
    return worst


def case_row(impl: str, case: Case, lib: Any, repeats: int, *, tiny: bool = False,
             state: dict[str, np.ndarray] | None = None, warmup: int = 2
             ) -> tuple[Measured, dict[str, np.ndarray]]:
    """Build `case` for `lib`, run one step for the check, then time `repeats` steps (more
    for a cheap step: about 20 ms of steps per row at least, up to 10x `repeats`). Returns
    the measurement and the weights it used."""
    sizes = case.tiny if tiny else case.sizes
    lib.manual_seed(0)  # our initial weights are the same from run to run
    step = case.build(lib, sizes, state, np.random.default_rng(0))
    loss = step.run()
    first = Measured(Timing([]), None if loss is None else float(loss.item()), step.result())
    once = measure(step.run, repeats=1, warmup=0).best
    reps = repeats * max(1, min(10, int(0.02 / max(once, 1e-9))))
    first.timing = measure(step.run, repeats=reps, warmup=warmup)
    print(f"#   {impl:<13} {case.label[:48]:<48} {first.timing.describe('ms')}", flush=True)
    return first, step.state


def layer_rows(impl: str, lib: Any, repeats: int, *, tiny: bool = False,
               states: dict[str, dict[str, np.ndarray]] | None = None,
               cases: dict[str, Case] | None = None
               ) -> tuple[dict[str, Measured], dict[str, dict[str, np.ndarray]]]:
    """Every case for one library: the measurements and the weights each case used (pass
    ours as `states` to the PyTorch rows so they load the same weights)."""
    measured, used = {}, {}
    for name, case in (cases or CASES).items():
        state = states.get(name) if states is not None else None
        measured[name], used[name] = case_row(impl, case, lib, repeats, tiny=tiny, state=state)
    return measured, used


def run(args: argparse.Namespace, torch: Any) -> list[ResultTable]:
    import tinygrad_edu

    ours, states = layer_rows(OURS, tinygrad_edu, args.repeats)
    theirs: dict[str, Measured] = {}
    if torch is not None:  # last: torch's thread pool must not disturb our rows
        theirs, _ = layer_rows(TORCH, torch, args.repeats, states=states)
    return [make_table(ours, theirs, args.stat)]


def make_table(ours: dict[str, Measured], theirs: dict[str, Measured], stat: str
               ) -> ResultTable:
    """One row per case; the PyTorch column and the ratio only when `theirs` has rows, each
    checked against ours first."""
    checks = [f"{n} {check(n, ours[n], theirs[n]):.0e}" for n in ours if n in theirs]
    columns = [OURS] + ([TORCH] if theirs else [])
    table = ResultTable(f"Layers added for issue 19: one training step, float32 ({stat} "
                        "over repeats)", columns, [(OURS, TORCH)] if theirs else [])
    for name, m in ours.items():
        values = {"tinygrad_edu": m.timing.value}
        if name in theirs:
            values["pytorch"] = theirs[name].timing.value
        table.add(CASES[name].label, "ms", **values)
    table.notes.append(
        "A step: forward, loss = (output * w).sum() with a fixed random w, backward into the "
        "parameters and float inputs (grads set to None first); the optimizer rows time "
        "opt.step() alone with default hyperparameters and gradients given. Recurrent "
        "inputs are (seq, batch, features); attention and the encoder layer batch_first. "
        "Same data and weights in both libraries.")
    if checks:
        table.notes.append("Checks (worst relative difference of loss and gradients, or of "
                           "the update of one optimizer step): " + ", ".join(checks) + ".")
    return table


if __name__ == "__main__":
    benchmark_main(__doc__.splitlines()[0], run)
