"""What webhooks hear from the packages below them, which never import webhooks.

Connected in `WebhooksConfig.ready()`. A receiver runs inside the sender's transaction, so
the outbox row it writes commits or rolls back with the change it reports.
"""

from __future__ import annotations

from typing import Any

from generation.webhooks.services import element_event_emit


def element_event_received(
    sender: Any,
    *,
    element: Any,
    ok: bool,
    error_code: str = "",
    error_message: str = "",
    **kwargs: Any,
) -> None:
    """`elements.signals.element_event`: record `element.ready` or `element.failed`."""
    element_event_emit(element=element, ok=ok, error_code=error_code, error_message=error_message)
