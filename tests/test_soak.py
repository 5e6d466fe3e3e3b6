# SPDX-License-Identifier: MIT
"""bench/soak.py in its short CI setting: 200 sockets and mixed traffic for 20 s must pass (exit 0)."""

import json
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parent.parent / "bench" / "soak.py"


def test_soak_short():
    done = subprocess.run(
        [sys.executable, str(SOAK), "--seconds", "20"], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["errors"] == 0 and report["failed"] == 0
    assert report["changes"] > 0 and report["requests"] > 0
    assert report["events_delivered"] >= report["changes"] * 100  # every admin-role socket got every change
