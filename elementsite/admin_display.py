"""Small display helpers that keep the admin's list pages inside a 1400 px window
(tests/test_admin_width.py): long text is cut in the list and whole on hover and on the
object's page."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.html import format_html
from django.utils.safestring import SafeString


def truncated(text: str, limit: int = 60) -> SafeString | str:
    """`text` cut to `limit` characters with an ellipsis; the whole text in its tooltip."""
    text = text or ""
    if len(text) <= limit:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: limit - 1].rstrip())


def url_host(url: str) -> SafeString | str:
    """A URL's host, the whole URL in the tooltip: an endpoint as a list shows it."""
    host = urlsplit(url or "").hostname or url or ""
    if host == url:
        return truncated(url, 40)
    return format_html('<span title="{}">{}</span>', url, truncated(host, 40))
