# SPDX-License-Identifier: MIT
"""HTTP plumbing shared by the API handlers and the Socket.IO endpoint: envelopes, headers, CORS."""
