"""What our relay node types share."""

from __future__ import annotations

import base64
import binascii
import inspect
import sys
from typing import Any, ClassVar, Self

import strawberry
from django.db import models
from strawberry import relay
from strawberry.relay.types import NodeIterableType
from strawberry.relay.utils import (
    SliceMetadata,
    from_base64,
    should_resolve_list_connection_edges,
    to_base64,
)
from strawberry.types import Info
from strawberry.utils.await_maybe import AwaitableOrValue
from strawberry.utils.inspect import in_async_context
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay import DjangoListConnection
from strawberry_django.relay.utils import resolve_edge_class

from elementsite.error_codes import ListErrorCode
from elementsite.errors import ClientError


class PkNodeID:
    """Mixed into each relay node type ahead of `relay.Node`: the global id is the model's
    primary key.

    With no field annotated `NodeID`, strawberry-django falls back to `pk`, but it finds that
    out by scanning every base's annotations (and raising `NodeIDAnnotationError`) each time
    an `id` is resolved: 110–350 µs a node, measured, and never cached. Naming the attribute
    here makes `resolve_id_attr` return at once.
    """

    _id_attr: ClassVar[str | None] = "pk"


# --- Lists: page sizes and cursors ---------------------------------------------------------
#
# Strawberry's cursors are base64 of `arrayconnection:<offset>`, the same for every list, and
# a malformed one fails with base64's or int()'s own message. Ours name the list they belong
# to (`Query.elements:<offset>`), so a cursor of another list is refused instead of being
# read as an offset of this one, and every refusal is a typed error.

_NATIVE_PREFIX = "arrayconnection"
_MAX_CURSOR_LENGTH = 200


def _cursor_scope(info: Info) -> str:
    return f"{info.path.typename}.{info.field_name}"


def make_cursor(scope: str, offset: int) -> str:
    return base64.b64encode(f"{scope}:{offset}".encode()).decode("ascii")


def parse_cursor(value: str, *, scope: str, argument: str) -> int:
    """The offset inside a cursor this list gave out; INVALID_CURSOR for anything else."""
    offset: int | None = None
    if isinstance(value, str) and len(value) <= _MAX_CURSOR_LENGTH:
        try:
            text = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
        except (UnicodeError, binascii.Error, ValueError):
            text = ""
        prefix, sep, number = text.rpartition(":")
        if sep and prefix == scope and number.isdigit() and len(number) <= 12:
            offset = int(number)
    if offset is None:
        raise ClientError(
            f"`{argument}` is not a cursor of this list.",
            ListErrorCode.INVALID_CURSOR,
            argument=argument,
        )
    return offset


def check_page_size(value: int | None, *, argument: str, max_results: int) -> None:
    if value is None:
        return
    if value < 0:
        raise ClientError(
            f"`{argument}` must be 0 or more.", ListErrorCode.INVALID_PAGE_SIZE, argument=argument
        )
    if value > max_results:
        raise ClientError(
            f"`{argument}` can be at most {max_results}.",
            ListErrorCode.PAGE_SIZE_TOO_LARGE,
            argument=argument,
            maxPageSize=max_results,
        )


def _native(offset: int) -> str:
    return to_base64(_NATIVE_PREFIX, offset)


def _scoped(cursor: str | None, scope: str) -> str | None:
    if cursor is None:
        return None
    _, offset = from_base64(cursor)
    return make_cursor(scope, int(offset))


# strawberry's identity `resolve_node` and its `resolve_edge` (cursor, node): `_page`
# builds the edges itself only when the connection and its edge keep them.
_DEFAULT_RESOLVE_NODE = relay.Connection.resolve_node.__func__  # type: ignore[attr-defined]
_DEFAULT_RESOLVE_EDGE = relay.Edge.resolve_edge.__func__  # type: ignore[attr-defined]


# --- Lists: the total count ----------------------------------------------------------------
#
# strawberry-django answers `totalCount` from a window on the page's own statement,
# `COUNT(1) OVER ()`: to count, the database reads and sorts every row of the list before it
# can stop at the page's LIMIT (a ledger of 1,000 entries on SQLite: 3.2 ms for the statement,
# 0.31 ms without the window). A scalar subquery in the same statement counts the same rows
# from the index once and leaves the page to the ordered index (0.34 ms): one statement still,
# the same number.

# The annotation strawberry-django's `DjangoListConnection.total_count` reads off a node.
_TOTAL_COUNT = "_strawberry_total_count"


class _RowCount(models.Func):
    # COUNT(*) that Django does not take for an aggregate: no GROUP BY joins the subquery.
    template = "COUNT(*)"
    output_field = models.IntegerField()


def _asks_total_count(info: Info) -> bool:
    def asks(selections: list[Any]) -> bool:
        return any(
            getattr(s, "name", None) == "totalCount" or asks(s.selections) for s in selections
        )

    return any(asks(field.selections) for field in info.selected_fields)


def _with_total_count(
    nodes: Any, info: Info, *, before: str | None, last: int | None
) -> models.QuerySet[Any] | None:
    """The list annotated with its count, when strawberry-django would count it with the
    window and a subquery counts exactly the same rows; otherwise None (its own way)."""
    if not isinstance(nodes, models.QuerySet):
        return None
    config = get_queryset_config(nodes)
    query = nodes.query
    if (
        not config.optimized
        or config.optimized_by_prefetching  # a nested list: counted in its prefetch
        or ((last or 0) > 0 and before is None)  # its own path for `last`
        or query.distinct
        or query.combinator
        or query.is_sliced
        or query.group_by is not None
        or any(getattr(a, "contains_aggregate", False) for a in query.annotations.values())
        or not _asks_total_count(info)
    ):
        return None
    rows = nodes.order_by().values(_rows=_RowCount())
    return nodes.annotate(**{_TOTAL_COUNT: models.Subquery(rows)})


@strawberry.type(name="Connection", description="A connection to a list of items.")
class ListConnection(DjangoListConnection[relay.NodeType]):
    """Every list of the API: strawberry-django's connection with our page-size check and
    cursors scoped to their list (see above). Offsets stay strawberry's: the cursors are
    translated on the way in and out, so its optimised slicing is untouched."""

    @classmethod
    def resolve_connection(
        cls,
        nodes: NodeIterableType[relay.NodeType],
        *,
        info: Info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ) -> AwaitableOrValue[Self]:
        scope = _cursor_scope(info)
        max_results = kwargs.get("max_results") or info.schema.config.relay_max_results
        check_page_size(first, argument="first", max_results=max_results)
        check_page_size(last, argument="last", max_results=max_results)
        if after is not None:
            after = _native(parse_cursor(after, scope=scope, argument="after"))
        if before is not None:
            before = _native(parse_cursor(before, scope=scope, argument="before"))
        counted = _with_total_count(nodes, info, before=before, last=last)
        if counted is not None:
            page = cls._page(
                counted, info, scope, before, after, first, last, kwargs.get("max_results")
            )
            if page is not None:
                page.nodes = nodes
                return page
            # strawberry-django's own resolution less its window count (see above): the
            # slicing is strawberry's; `nodes` stays the list for a count when a page is empty.
            result = super(DjangoListConnection, cls).resolve_connection(
                counted, info=info, before=before, after=after, first=first, last=last, **kwargs
            )
            if not inspect.isawaitable(result):
                result.nodes = nodes
        else:
            result = super().resolve_connection(
                nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
            )
        if inspect.isawaitable(result):

            async def rescoped() -> Self:
                return cls._rescope(await result, scope)

            return rescoped()
        return cls._rescope(result, scope)

    @classmethod
    def resolve_optimized_last_connection(
        cls,
        nodes: NodeIterableType[relay.NodeType],
        *,
        info: Info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ) -> AwaitableOrValue[Self]:
        """`last` without `before`: strawberry-django counts the rows and asks again with a
        cursor after the last one, in its own cursor format, which `resolve_connection`
        refuses (INVALID_CURSOR) as not one of this list's. Asked again with ours."""
        assert isinstance(nodes, models.QuerySet)
        end = make_cursor(_cursor_scope(info), nodes.count())
        return cls.resolve_connection(
            nodes, info=info, before=end, after=after, first=first, last=last, **kwargs
        )

    @classmethod
    def _page(
        cls,
        nodes: models.QuerySet[Any],
        info: Info,
        scope: str,
        before: str | None,
        after: str | None,
        first: int | None,
        last: int | None,
        max_results: int | None,
    ) -> Self | None:
        """strawberry's `ListConnection.resolve_connection` for a queryset read
        synchronously, with each edge given its cursor of this list at once: strawberry
        writes its own (`arrayconnection:<offset>`) for every edge and `_rescope` read two
        and wrote them all again. The slice, the page and its flags are strawberry's
        (`SliceMetadata`, the same overfetch of one). None (strawberry's own way) when
        the connection or its edge resolve their nodes or edges in a way of their own,
        or when running in an async context."""
        edge_class = resolve_edge_class(cls)
        if (
            in_async_context()
            or getattr(cls.resolve_node, "__func__", None) is not _DEFAULT_RESOLVE_NODE
            or getattr(edge_class.resolve_edge, "__func__", None) is not _DEFAULT_RESOLVE_EDGE
        ):
            return None
        metadata = SliceMetadata.from_arguments(
            info,
            before=before,
            after=after,
            first=first,
            last=last,
            max_results=max_results,
            prefix=edge_class.CURSOR_PREFIX,
        )
        if not should_resolve_list_connection_edges(info):
            return cls(
                edges=[],
                page_info=relay.PageInfo(
                    start_cursor=None,
                    end_cursor=None,
                    has_previous_page=False,
                    has_next_page=False,
                ),
            )
        start = metadata.start
        edges = [
            edge_class(cursor=make_cursor(scope, start + i), node=node)
            for i, node in enumerate(nodes[start : metadata.overfetch])
        ]
        has_previous_page = start > 0
        if metadata.expected is not None and len(edges) == metadata.expected + 1:
            edges = edges[:-1]  # the overfetched one
            has_next_page = True
        elif metadata.end == sys.maxsize:
            # `last` without `after`/`before` (not taken here: see `_with_total_count`).
            assert last is not None
            original_len = len(edges)
            edges = edges[-last:]
            has_next_page = False
            has_previous_page = len(edges) != original_len
        else:
            has_next_page = False
        return cls(
            edges=edges,
            page_info=relay.PageInfo(
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
                has_previous_page=has_previous_page,
                has_next_page=has_next_page,
            ),
        )

    @classmethod
    def _rescope(cls, connection: Self, scope: str) -> Self:
        edges = connection.edges
        if edges:
            # A page is a run of consecutive offsets: read the first and last (decoding every
            # cursor cost about 2 µs an edge, measured), and fall back if that ever changes.
            first = int(from_base64(edges[0].cursor)[1])
            if int(from_base64(edges[-1].cursor)[1]) == first + len(edges) - 1:
                for i, edge in enumerate(edges):
                    edge.cursor = make_cursor(scope, first + i)
            else:
                for edge in edges:
                    edge.cursor = _scoped(edge.cursor, scope) or ""
        page = connection.page_info
        page.start_cursor = edges[0].cursor if edges else None
        page.end_cursor = edges[-1].cursor if edges else None
        return connection
