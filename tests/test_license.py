# SPDX-License-Identifier: MIT
"""SEAM is MIT-licensed: the LICENSE file, and the SPDX identifier on every project source file (README,
"Licence"); the vendored Socket.IO client keeps its own licence (issue 18.3)."""

import re

from bench.seam_process import ROOT

SPDX = "SPDX-License-Identifier: MIT"
# The first line of each kind of file (after a shebang; an HTML file's after its doctype).
HEADERS = {
    ".py": f"# {SPDX}",
    ".js": f"// {SPDX}",
    ".mjs": f"// {SPDX}",
    ".css": f"/* {SPDX} */",
    ".html": f"<!-- {SPDX} -->",
    ".conf": f"# {SPDX}",
    ".service": f"# {SPDX}",
    "": f"# {SPDX}",  # the Makefile and the CI scripts
}
SOURCE_DIRS = ("app", "bench", "deploy", "handlers", "realtime", "security", "static", "store", "tests", "web", ".ci")
NOT_OURS = ("static/vendor/", "tests/js/node_modules/", "tests/artifacts/")
GENERATED = ("__pycache__", ".venv", ".venv-runtime", ".pytest_cache")  # .venv-runtime: `make bench`'s servers


def source_files():
    """Every file the project wrote in a language with comments: code, the Makefile and the configuration it ships."""
    found = [ROOT / "seam.py", ROOT / "messages.py", ROOT / "seam.conf", ROOT / "Makefile"]
    for directory in SOURCE_DIRS:
        for path in sorted((ROOT / directory).rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if not path.is_file() or relative.startswith(NOT_OURS) or set(path.parts) & set(GENERATED):
                continue
            if path.suffix in HEADERS and (path.suffix or directory == ".ci"):
                found.append(path)
    return found


def header_line(path):
    lines = path.read_text().splitlines()
    skip = 1 if lines and (lines[0].startswith("#!") or lines[0].lower() == "<!doctype html>") else 0
    return lines[skip] if len(lines) > skip else ""


def test_the_licence_is_mit_for_the_seam_authors():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 The SEAM authors\n")
    assert "Permission is hereby granted, free of charge" in text and 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_every_source_file_carries_the_spdx_identifier():
    files = source_files()
    assert {ROOT / "seam.py", ROOT / "static" / "index.html", ROOT / "static" / "css" / "app.css"} <= set(files)
    assert len([f for f in files if f.suffix == ".js"]) >= 15 and ROOT / ".ci" / "run" in files
    missing = [
        f"{path.relative_to(ROOT)}: {header_line(path)!r}"
        for path in files
        if header_line(path) != HEADERS[path.suffix]
    ]
    assert missing == [], f"first line (after a shebang) must be the SPDX identifier: {missing}"


def test_the_vendored_client_keeps_its_own_licence():
    vendor = ROOT / "static" / "vendor"
    assert "MIT licence: see socket.io.LICENSE" in (vendor / "VERSION").read_text()
    assert re.search(r"Copyright \(c\) \d{4}.*Guillermo Rauch", (vendor / "socket.io.LICENSE").read_text())
    section = (ROOT / "README.md").read_text().split("\n## Licence\n", 1)[1]
    assert f"`# {SPDX}`" in section and "static/vendor/" in section
