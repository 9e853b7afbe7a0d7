"""Running deep recursion where CPython 3.11's frame stack has room for it.

CPython 3.11 keeps Python frames in chunks of 16 KiB (more for a frame that needs more).
A new chunk is mapped when a call does not fit in the current one and unmapped as soon as
the frame that opened it returns, so code that keeps calling across a chunk boundary maps
and unmaps memory (and page-faults) on nearly every call
(https://github.com/python/cpython/issues/142183; 3.13 keeps a spare chunk, 3.11 does not).
GraphQL execution recurses for every field of a response: where the boundary falls depends
on how deep the server, the middleware and the view already are, an accident that made one
page of a listing cost anything from 55 to 180 ms of CPU (bench/README.md).

`call_with_stack_room` calls a function from a frame too large for any ordinary chunk, so
the interpreter maps a chunk of its own for it (64 KiB: a chunk is sized in powers of two
with 1,000 words to spare), and the frames of the call then fill the rest of that chunk,
about 39 KiB, more than a GraphQL response's execution needs, wherever the caller stood.
It costs a mapping and a few page faults per call. On other versions it is a call through
one large frame and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# 3,200 locals make a frame of about 25 KiB: with the 1,000 words the interpreter keeps
# spare, its chunk is 64 KiB, and the calls below it have the remaining ~39 KiB.
_LOCALS = 3200


def _roomy_caller() -> Callable[..., Any]:
    names = "=".join(f"_{n}" for n in range(_LOCALS))
    source = (
        "def call_in_roomy_frame(function, args, kwargs):\n"
        # Never run: it only makes the names locals, which sizes the frame.
        f"    if function is None:\n        {names} = None\n"
        "    return function(*args, **kwargs)\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, __file__, "exec"), namespace)  # noqa: S102 (our own text)
    return namespace["call_in_roomy_frame"]  # type: ignore[no-any-return]


_call_in_roomy_frame = _roomy_caller()


def call_with_stack_room(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)`, with a fresh stretch of frame stack under it."""
    return _call_in_roomy_frame(function, args, kwargs)  # type: ignore[no-any-return]
