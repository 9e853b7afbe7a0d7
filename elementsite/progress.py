"""The progress bar of management commands (`daily_reset`, `elements_export`,
`elements_import`): a callable `(done, total)` that services take as their `progress`."""

from __future__ import annotations

from django.core.management.base import OutputWrapper


def _plain(text: str) -> str:
    # stderr's default style is the error colour; progress is not an error.
    return text


class ProgressBar:
    """A one-line text bar, redrawn in place on a terminal; elsewhere (logs, pipes) only the
    finished line is written so the output stays readable."""

    def __init__(self, out: OutputWrapper, label: str, width: int = 30) -> None:
        self.out = out
        self.label = label
        self.width = width
        self.interactive = out.isatty()
        self._last_drawn = -1

    def __call__(self, done: int, total: int) -> None:
        finished = done >= total
        if not self.interactive and not finished:
            return
        filled = self.width if total <= 0 else self.width * done // total
        if filled == self._last_drawn and not finished:
            return  # redrawing the same bar for every item would flood a slow terminal
        self._last_drawn = filled
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total}"
        if self.interactive:
            self.out.write("\r" + line, style_func=_plain, ending="\n" if finished else "")
            self.out.flush()
        else:
            self.out.write(line, style_func=_plain)
        if finished:
            self._last_drawn = -1  # the next run starts a new bar
