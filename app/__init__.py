# SPDX-License-Identifier: MIT
"""Wiring: settings, the shared services of one SEAM and the Tornado application."""
