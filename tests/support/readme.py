"""What the README promises, read from the README itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def readme_prompts() -> list[str]:
    """Every `"prompt": "…"` example in README.md, unescaped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.findall(r'\\?"prompt\\?":\s*\\?"((?:[^"\\]|\\.)*?)\\?"[,}]', text)
    return [json.loads(f'"{p}"') for p in found]
