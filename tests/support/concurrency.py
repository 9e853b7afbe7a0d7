"""Many threads at one instant, each on its own database connection: the races a lock or a
conditional update must win."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

THREADS = 40


def run_in_parallel(work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in 40 threads released at the same instant; exceptions are returned."""
    barrier = threading.Barrier(THREADS)

    def one(i: int) -> Any:
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def error_code(result: Any) -> str | None:
    """The first code of a field-keyed `ValidationError` a thread returned, else None."""
    if isinstance(result, ValidationError):
        return next(e.code for errors in result.error_dict.values() for e in errors)
    return None
