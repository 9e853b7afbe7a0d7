"""The start-up check of the identity engine: everything it needs is installed locally.

Run by Django's system checks (every `manage.py` command, `serve`, the workers): the built-in
engine's models must be inside the installed wheels, since nothing is ever downloaded when
the engine runs. A missing file stops the start with what to install, instead of a failing
task after the first upload.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from elements.identity.registry import get_identity_engine


@register()
def identity_engine_ready(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    try:
        engine = get_identity_engine()
    except LookupError as exc:
        return [Error(str(exc), hint="Fix IDENTITY_ENGINE.", id="elements.E001")]
    return [
        Error(problem, hint="pip install the project's dependencies.", id="elements.E002")
        for problem in engine.start_up_problems()
    ]
