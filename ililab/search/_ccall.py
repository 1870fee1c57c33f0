"""Calls from one compiled kernel to another through a C function pointer.

Why: when a Numba function calls another ``@njit`` function, Numba links the callee's whole
LLVM module into the caller's and optimises and emits it again, in every caller and at every
level of the call tree. For the search kernels that repetition was most of the first-run
compile time. A kernel compiled once as a C callback (:func:`numba.cfunc`, cached on disk) and
called through its address, passed in at run time, is compiled exactly once and shared by every
caller (GRaSP, BOSS, the Python test entry points).

* :func:`address` — the data pointer of a C-contiguous array, typed (``CPointer(dtype)``).
* :func:`call_int64` — ``call_int64(addr, (a, b, ...))`` calls the C function at ``addr`` with
  the arguments of the tuple and returns its int64 result. The C signature is taken from the
  argument types, so each argument must already have the type the callee declares (pointers
  from :func:`address`, ``int64``, ``float64``).

Both are Numba intrinsics: usable inside ``@njit`` code only. Callers get the address from
Python (``CFunc.address``) and pass it as an ``int64`` argument, so the caller's on-disk cache
holds no process-specific constant.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["address", "call_int64"]


@intrinsic
def address(typingctx, array):
    """``CPointer(dtype)`` to the first element of a C-contiguous array."""
    if not isinstance(array, types.Array) or array.layout != "C":
        return None
    sig = types.CPointer(array.dtype)(array)

    def codegen(context, builder, signature, args):
        return context.make_array(array)(context, builder, args[0]).data

    return sig, codegen


@intrinsic
def call_int64(typingctx, addr, args):
    """Call the C function ``int64 f(args...)`` whose address is ``addr``."""
    if not isinstance(addr, types.Integer) or not isinstance(args, types.BaseTuple):
        return None
    allowed = (types.CPointer, types.Integer, types.Float)
    if not all(isinstance(t, allowed) for t in args.types):
        return None
    sig = types.int64(addr, args)

    def codegen(context, builder, signature, llargs):
        fnty = ir.FunctionType(ir.IntType(64), [context.get_value_type(t) for t in args.types])
        fn = builder.inttoptr(llargs[0], fnty.as_pointer())
        values = [builder.extract_value(llargs[1], i) for i in range(len(args.types))]
        return builder.call(fn, values)

    return sig, codegen
