# SPDX-License-Identifier: MIT
"""Email addresses as SEAM accepts them (SPEC §10): one Unicode form, nothing invisible.

NFD `josé` and NFC `josé` are one address, and `admin@seam.local` with a zero-width space
in it is none: otherwise two accounts could look the same on every screen.
"""

import re
import unicodedata

# The original's pattern (SPEC §5), matched against the whole text: a trailing newline is not an email.
PATTERN = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
# Control, format (zero-width, bidi, soft hyphen), private-use, surrogate and unassigned code points.
INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def normalize(text):
    return unicodedata.normalize("NFC", text)


def has_invisible(text):
    return any(unicodedata.category(char) in INVISIBLE for char in text)


def clean(text):
    """The NFC form of an email address, or None when it is not one (same rule for the API, settings and CLI)."""
    if not isinstance(text, str):
        return None
    text = normalize(text)
    if has_invisible(text) or not PATTERN.fullmatch(text):
        return None
    return text
