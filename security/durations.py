# SPDX-License-Identifier: MIT
"""Durations in settings: '1h', '30m', '7d' or plain seconds (as the original's JWT_EXPIRES_IN)."""

import re

DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text):
    """'1h', '30m', '7d' or plain seconds (as the original's JWT_EXPIRES_IN) → seconds."""
    match = DURATION.match(str(text).strip().lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"'{text}' is not a duration like 3600, 30m, 1h or 7d")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]
