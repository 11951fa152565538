"""A software prefetch for compiled loops: ask the memory system for an array element that will be read soon.

`prefetch` is a hint with no effect on results (LLVM's ``llvm.prefetch``: read, keep in all cache levels). Loops whose
next addresses are known but scattered, such as the word-of-mouth push (`loyaltysim.engine.listen`), wait on one
cache miss after another; asking for the lines a few iterations ahead overlaps those waits (measured on the push:
about half its time, see `benchmarks/run.py`'s phases). Imports only numba and llvmlite.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["prefetch"]


@intrinsic
def prefetch(typingctx, array, index):
    """Prefetch ``array[index]`` (a 1-D array and an integer index, which must be inside the array) into the caches."""
    if not isinstance(array, types.Array) or array.ndim != 1 or not isinstance(index, types.Integer):
        return None
    sig = types.void(array, types.intp)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, array_type, ary, [args[1]], wraparound=False, boundscheck=False
        )
        i8_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn_type = ir.FunctionType(ir.VoidType(), [i8_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fn_type, "llvm.prefetch.p0")
        # (address, 0 = read, 3 = keep in every cache level, 1 = data cache)
        builder.call(fn, [builder.bitcast(ptr, i8_ptr), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
