"""Hooks through which packages above the element library take part in its rules.

`elements` never imports `generation` (or anything that builds on it): the dependency runs one
way, `generation` → `elements`. Where a rule of the library needs an answer only a higher
package has, the library asks here, and the higher package registers the answer when it starts
(its `AppConfig.ready()`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# Given stored file names, the ones that must outlive the rows that referenced them.
PinnedFilesProvider = Callable[[Iterable[str]], set[str]]

_pinned_files_providers: list[PinnedFilesProvider] = []


def pinned_files_register(provider: PinnedFilesProvider) -> None:
    """Let `provider` keep files alive: a file the library no longer references is deleted
    only if no registered provider names it (a submitted job pins its element's images,
    voice and clip rather than copying them; a shared work's recipe keeps its files).
    Registering the same provider twice counts once."""
    if provider not in _pinned_files_providers:
        _pinned_files_providers.append(provider)


def pinned_file_names(names: Iterable[str]) -> set[str]:
    """Which of these stored files some registered provider still pins."""
    names = [n for n in names if n]
    pinned: set[str] = set()
    if not names:
        return pinned
    for provider in _pinned_files_providers:
        pinned |= provider(names)
    return pinned
