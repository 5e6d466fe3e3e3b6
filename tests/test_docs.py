# SPDX-License-Identifier: MIT
"""docs/api.md, the API and event reference the project ships, covers what the server serves (issue 18.13)."""

import re

from app.config import SETTINGS
from bench.seam_process import ROOT
from handlers import ROUTE_TABLE
from handlers.routing import API_PREFIX

DOC = ROOT / "docs" / "api.md"
EVENTS = ("operation:progress", "data:changed", "session:changed", "session:revoked")


def test_every_route_has_its_entry_and_no_entry_is_stale():
    documented = re.findall(r"^#### `([A-Z]+ /\S+)`$", DOC.read_text(), re.MULTILINE)
    served = [f"{route.method} {API_PREFIX}{route.pattern}" for route in ROUTE_TABLE]
    assert sorted(documented) == sorted(served)


def test_each_entry_names_its_guard_and_operation():
    text = DOC.read_text()
    for route in ROUTE_TABLE:
        heading = f"#### `{route.method} {API_PREFIX}{route.pattern}`"
        entry = text.split(heading, 1)[1].split("\n#", 1)[0]
        assert f"Guard: {route.guard}" in entry and f"operation `{route.operation}`" in entry, heading


def test_events_settings_and_the_feed_are_documented():
    text = DOC.read_text()
    for event in EVENTS:
        assert f"### `{event}`" in text, event
    assert [s.name for s in SETTINGS if f"| `{s.name}` |" not in text] == []
    for reason in ("disabled", "deleted", "password_reset", "password_changed", "expired"):
        assert f"`{reason}`" in text


def test_the_readme_links_the_reference_not_a_file_outside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/api.md)" in readme and "../shared" not in readme
