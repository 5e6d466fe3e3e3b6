# SPDX-License-Identifier: MIT
"""Credentials: tokens and who holds them, password hashing, login throttling."""
