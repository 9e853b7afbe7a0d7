"""Signals `elements` sends for the packages above it, which must not be imported from here.

`element_event`: a video element's background processing ended, ready or failed. It is sent
inside the transaction that records the result (`send`, not `send_robust`), so what a
receiver writes (the webhook outbox row) commits or rolls back with that result, and a
receiver's error rolls the result back as it did when elements called webhooks directly.
Keyword arguments: `element` (an `elements.models.Element`, already saved), `ok` (True when
it is ready), `error_code` and `error_message` (empty when ok). The sender is `Element`.

`voice_withdrawn` is sent after the commit that deletes a voice (its owner) or takes it down
(staff), with `voice_file`, the storage name of its sample: a provider that made a voice of
that sample (Kling's custom voices) deletes it there. Receivers must not raise: the delete
or takedown has happened.
"""

from __future__ import annotations

from django.dispatch import Signal

element_event = Signal()
voice_withdrawn = Signal()
