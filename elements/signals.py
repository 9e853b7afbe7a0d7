"""What `elements` tells the packages above it, without importing them (they subscribe).

`voice_withdrawn` is sent after the commit that deletes a voice (its owner) or takes it down
(staff), with `voice_file`, the storage name of its sample: a provider that made a voice of
that sample (Kling's custom voices) deletes it there. Receivers must not raise: the delete
or takedown has happened."""

from __future__ import annotations

from django.dispatch import Signal

voice_withdrawn = Signal()
