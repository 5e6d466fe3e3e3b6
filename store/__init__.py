# SPDX-License-Identifier: MIT
"""SEAM's storage layer: one SQLite database, repositories returning attrs models."""
