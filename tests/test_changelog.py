# SPDX-License-Identifier: MIT
"""CHANGELOG.md (Keep a Changelog): its newest release is the version SEAM reports (issue 18.2)."""

import re

from app.version import VERSION
from bench.seam_process import ROOT

HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$", re.MULTILINE)
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def test_the_newest_release_is_the_version_seam_reports():
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = [(m["version"], m["date"]) for m in HEADING.finditer(text)]
    assert headings[0] == ("Unreleased", None), headings
    releases = headings[1:]
    assert releases and releases[0][0] == VERSION, (releases, VERSION)
    assert all(date for _, date in releases)
    numbers = [tuple(int(part) for part in version.split(".")) for version, _ in releases]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers)
    kinds = re.findall(r"^### (.+)$", text, re.MULTILINE)
    assert kinds and set(kinds) <= set(SECTIONS), kinds
