# SPDX-License-Identifier: MIT
"""SEAM's version: `seam --version`, /healthz, the OpenAPI document and the console's footer; CHANGELOG.md's newest
release (a test keeps them equal)."""

VERSION = "0.1.0"
