# SPDX-License-Identifier: MIT
"""Helpers the tests share: API and Socket.IO clients, real-time readers, server processes."""
