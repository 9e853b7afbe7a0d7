"""Hooks through which packages above the element library add to its GraphQL.

`elements` never imports `generation` (see `elements.hooks`). Two parts of the element API
are about jobs, though: where an element or voice went (`Element.usage`, `Voice.usage`: the
jobs that used it, the works shared from them) and images taken from the viewer's generation
history (`mainImageFromHistory`, `fromHistory`). The library declares those fields and
arguments; the package that owns jobs registers, when its GraphQL module is imported, the
GraphQL type and the functions behind them. `elementsite.schema` imports every app's GraphQL
before it builds the schema, so both are in place before the first request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import strawberry
from django.core.exceptions import ImproperlyConfigured
from strawberry.types import Info

if TYPE_CHECKING:
    # At run time `Usage` is the type `usage_register` stores under that name in this module.
    Usage = Any

# The type of the `usage` fields: whatever type was registered, found in this module by name
# when the schema is built (`usage_register` stores it as `Usage`).
LazyUsage = Annotated["Usage", strawberry.lazy("elements.graphql.hooks")]

# (info, owner_id=, element_id= or voice_file=) -> the usage record, or None when the viewer
# may not see it.
UsageResolver = Callable[..., Any]

# (info, output_id=<global id>, at=<seconds or None>) -> the image's bytes; raises the
# owner's "not found" (or a bad `at`) as a field error.
HistoryStill = Callable[..., BinaryIO]


@dataclass
class _Registered:
    usage: UsageResolver | None = None
    history_still: HistoryStill | None = None
    use_counter: ElementUseCounter | None = None


_registered = _Registered()


def usage_register(*, graphql_type: type, resolve: UsageResolver) -> None:
    """Set the type of `Element.usage` and `Voice.usage` and the function that answers them.
    One package owns the record; registering again replaces it."""
    # `strawberry.lazy("elements.graphql.hooks")` looks the type up here by its name.
    globals()["Usage"] = graphql_type
    _registered.usage = resolve


def usage_for(
    info: Info, *, owner_id: int | None, element_id: int | None = None, voice_file: str = ""
) -> Any:
    """The usage record of an element (`element_id`) or voice (`voice_file`) of `owner_id`;
    None when nothing registered one."""
    if _registered.usage is None:
        return None
    return _registered.usage(info, owner_id=owner_id, element_id=element_id, voice_file=voice_file)


# element ids -> {element id: (jobs, shared works, recreations) that used it, by anyone}.
ElementUseCounter = Callable[[Sequence[int]], dict[int, tuple[int, int, int]]]


def element_use_counter_register(count: ElementUseCounter) -> None:
    """Set the function that counts where an element went (the likeness console shows it
    to the person the element shows, not the jobs themselves)."""
    _registered.use_counter = count


def element_use_counts(element_ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    if _registered.use_counter is None:
        return {}
    return _registered.use_counter(element_ids)


def history_still_register(still: HistoryStill) -> None:
    """Set the function that turns an output of the viewer's history (its global id, and a
    time for a video) into an image for an element; registering again replaces it."""
    _registered.history_still = still


def history_still(info: Info, *, output_id: strawberry.ID, at: float | None) -> BinaryIO:
    """The image behind a history pick, through the registered function (none registered is
    a wiring mistake of the schema, not a client's)."""
    if _registered.history_still is None:
        raise ImproperlyConfigured("No package registered the generation history.")
    return _registered.history_still(info, output_id=output_id, at=at)
