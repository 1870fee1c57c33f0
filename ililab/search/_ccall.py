"""Calls from one compiled kernel to another through a C function pointer.

Why: when a Numba function calls another ``@njit`` function, Numba links the callee's whole
LLVM module into the caller's and optimises and emits it again, in every caller and at every
level of the call tree. For the search kernels that repetition was most of the first-run
compile time. A kernel compiled once as a C callback (:func:`numba.cfunc`, cached on disk) and
called through its address, passed in at run time, is compiled exactly once and shared by every
caller (GRaSP, BOSS, the Python test entry points).

* :func:`address` — the data pointer of a C-contiguous array, typed (``CPointer(dtype)``).
* :func:`c_caller` — ``c_caller(signature)`` makes an intrinsic ``call(addr, (a, b, ...))`` that
  calls the C function of that Numba signature at ``addr`` (pointers from :func:`address`,
  integers, floats); arguments of any other type are a typing error.

Both are Numba intrinsics: usable inside ``@njit`` code only. Callers get the address from
Python (``CFunc.address``) and pass it as an ``int64`` argument, so the caller's on-disk cache
holds no process-specific constant.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic

__all__ = ["address", "c_caller"]


@intrinsic
def address(typingctx, array):
    """``CPointer(dtype)`` to the first element of a C-contiguous array."""
    if not isinstance(array, types.Array) or array.layout != "C":
        return None
    sig = types.CPointer(array.dtype)(array)

    def codegen(context, builder, signature, args):
        return context.make_array(array)(context, builder, args[0]).data

    return sig, codegen


def c_caller(signature):
    """An intrinsic ``call(addr, (a, b, ...))`` calling the C function of ``signature`` at ``addr``.

    The argument types must be exactly ``signature.args`` (a typing error otherwise), so a kernel
    cannot pass, say, an int32 array where the callee reads int64: the pointer types are checked
    at compile time, not trusted.
    """
    expected = tuple(signature.args)
    allowed = (types.CPointer, types.Integer, types.Float)
    if not all(isinstance(t, allowed) for t in expected):
        raise TypeError(f"only pointers, integers and floats cross the C boundary, got {expected}")

    @intrinsic
    def call(typingctx, addr, args):
        if not isinstance(addr, types.Integer) or not isinstance(args, types.BaseTuple):
            return None
        if tuple(args.types) != expected:
            raise TypingError(f"C call: arguments {tuple(args.types)} do not match {expected}")
        sig = signature.return_type(addr, args)

        def codegen(context, builder, sig_, llargs):
            fnty = ir.FunctionType(context.get_value_type(signature.return_type), [context.get_value_type(t) for t in expected])
            fn = builder.inttoptr(llargs[0], fnty.as_pointer())
            return builder.call(fn, [builder.extract_value(llargs[1], i) for i in range(len(expected))])

        return sig, codegen

    return call
