"""Which arrays the generated code may overwrite: a fresh array (made by the generated
code) that one place reads is private, and an elementwise result may be written into it
(the kernels' private-gradient rule, kernels.py). `Program` inherits these rules.
"""

from __future__ import annotations

from typing import Any

from tinygrad_edu.compile.tracer import Entry
from tinygrad_edu.ops import conv, linalg, reduce, windows
from tinygrad_edu.ops import elementwise as el

#: primitives whose forward always returns a new array (numpy's einsum may return a view
#: of its operand, a user's Function its input: neither is here), so a later op may
#: overwrite it when nothing else reads it
FRESH = frozenset({el.Add, el.Sub, el.Mul, el.Div, el.Neg, el.Exp, el.Log, el.Sqrt, el.Tanh,
                   el.Sigmoid, el.ReLU, el.Maximum, el.Minimum, el.Pow, el.Where, linalg.Linear,
                   linalg.MatMul, reduce.LogSoftmax, conv.ConvIm2col, windows.WindowMax})

#: elementwise primitives written into a private input when it has the output's shape and
#: dtype (`Program.in_place_line`): their ufunc on the same operands in the same order,
#: correctly rounded, gives the bits the template's new array has. Transcendental ufuncs
#: (exp, log, tanh) are left out: numpy may pick another SIMD loop for them in place.
IN_PLACE = {el.Add: "np.add", el.Sub: "np.subtract", el.Mul: "np.multiply",
            el.Div: "np.divide", el.Neg: "np.negative", el.Maximum: "np.maximum",
            el.Minimum: "np.minimum"}
#: ... for outputs of at least this many bytes: below it a new array costs little (numpy's
#: small-array cache, malloc's bins) and `a + b` reads better in `.source`
IN_PLACE_BYTES = 1 << 16


class BufferRules:
    """How many places read each slot, and what may therefore be written in place. Needs
    the `Program`'s `trace` and (after `count_uses`) sets `uses` and `fresh_arrays`."""

    trace: Any
    uses: dict[int, int]
    fresh_arrays: set[int]

    def count_uses(self, live: list[Entry]) -> None:
        """How many places read each slot (a node's backward reads what its op `saves`),
        and which slots hold a fresh array that only the generated code holds."""
        trace, tracer = self.trace, self.trace.tracer
        uses: dict[int, int] = {}
        fresh: set[int] = set()

        def read(ref: tuple[str, int] | None) -> None:
            if ref is not None and ref[0] == "slot":
                uses[ref[1]] = uses.get(ref[1], 0) + 1

        def read_entry(e: Entry) -> None:
            for r in [*e.ins, *(("slot", k) for k in e.arrays.values())]:
                read(r)

        for e in tracer.entries[:trace.backward_start]:
            read_entry(e)
            if e.op in FRESH and e.out is not None:
                fresh.add(e.out)
        for e in live:
            read_entry(e)
            if e.op is None:
                fe = tracer.entries[e.node]  # type: ignore[index]
                assert fe.op is not None
                if "inputs" in fe.op.saves:
                    for r in fe.ins:
                        read(r)
                if "output" in fe.op.saves:
                    read(("slot", fe.out))  # type: ignore[arg-type]
                if e.note == "kernel":  # a kernel's arrays are its own (kernels.py)
                    fresh.update(o for o in e.outs if o is not None)
            elif e.op in FRESH and e.out is not None:
                fresh.add(e.out)
        read(("slot", trace.out))
        for _, slot in trace.updates:
            read(("slot", slot))
        for r in trace.input_grads:
            read(r)
        self.uses, self.fresh_arrays = uses, fresh

    def private(self, ref: tuple[str, int]) -> bool:
        """A fresh array (made by the generated code) that one place reads: it may be
        overwritten there (the kernels' private-gradient rule, kernels.py)."""
        kind, k = ref
        return (kind == "slot" and k in self.fresh_arrays and self.uses.get(k, 0) == 1
                and self.trace.tracer.tensors[k].dtype.kind == "f")

    def writable(self, ref: tuple[str, int], out: int) -> bool:
        """A private array (`private`) that can hold the output of slot `out` in place: an
        array (a ufunc on 0-d arrays gives a numpy scalar, which has no memory to write)
        of the output's shape and dtype."""
        if not self.private(ref):
            return False
        tensors = self.trace.tracer.tensors
        a, y = tensors[ref[1]], tensors[out]
        return a.ndim > 0 and a.shape == y.shape and a.dtype == y.dtype

    def in_place_target(self, e: Entry) -> tuple[str, int] | None:
        """The input `e`'s result can be written into (`IN_PLACE`), or None."""
        if e.op not in IN_PLACE or e.attrs or e.out is None:
            return None
        if self.trace.tracer.tensors[e.out].array.nbytes < IN_PLACE_BYTES:
            return None
        for r in e.ins:
            if self.writable(r, e.out):
                return r
        return None
