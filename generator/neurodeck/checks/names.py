"""Names derived from what authors write."""
from __future__ import annotations

import re


def slug(text: str) -> str:
    """Lowercase letters and digits, runs of anything else as one '-': for file names, tags, ids."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
