# SPDX-License-Identifier: MIT
"""SEAM with one fan-out optimisation taken back, to show what each one buys (bench only, never shipped).

seam_variant.py VARIANT [seam flags]
  full    SEAM as shipped: FanoutManager, direct frame with socket.send() (d3)
  d2      direct frame through IOStream.write, never a bare socket.send()
  queued  FanoutManager without the direct write: put_nowait into engineio's queue (b)
  stock   python-socketio's own AsyncManager (Tasks per recipient, engineio writer)
"""

import sys

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])

import socketio  # noqa: E402

import seam  # noqa: E402
from realtime import fanout, hub  # noqa: E402

variant = sys.argv.pop(1)
if variant == "d2":
    fanout.FanoutManager.plain_send = False
elif variant == "queued":
    fanout.FanoutManager._write_direct = lambda self, socket, frame: False
elif variant == "stock":
    hub.client_manager = lambda log: socketio.AsyncManager()
elif variant != "full":
    raise SystemExit(f"unknown variant {variant}")
sys.exit(seam.main())
