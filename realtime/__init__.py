# SPDX-License-Identifier: MIT
"""The real-time side: the Socket.IO hub, its fan-out fast path and the operation lifecycle."""
