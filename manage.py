#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that only read the code (no request served, nothing signed or stored) may run
# without a SECRET_KEY, e.g. `makemigrations --check` or a schema export in a build step.
CODE_ONLY_COMMANDS = {"makemigrations", "export_schema"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elementsite.settings")
    if len(sys.argv) > 1 and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ.setdefault("SECRET_KEY", "code-only-command-signs-nothing")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
