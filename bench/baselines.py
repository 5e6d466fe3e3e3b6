# SPDX-License-Identifier: MIT
"""The servers SEAM is compared with in the same run (each started pinned to core 0 by bench/run.py).

baselines.py bare  PORT ROWS.json   a bare Tornado handler serving the same 50-row JSON (no auth, no DB)
baselines.py stock PORT tuned|untuned
                                    stock python-socketio: PUT /api/v1/users/<id> → `await sio.emit`
                                    of a data:changed shaped like SEAM's to every socket
baselines.py floor PORT             not Socket.IO: just enough websocket + Engine.IO handshake for the
                                    load client, and a PUT that makes one send() per socket; the
                                    load client's own floor
"""

import asyncio
import base64
import datetime
import hashlib
import json
import sys
import uuid

import socketio
import tornado.httpserver
import tornado.web

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])
from seam import tune_gc  # noqa: E402

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B06"


def change_payload(seq, user_id):
    """A data:changed payload of the size and shape SEAM sends for PUT /users/:id."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    user = {
        "idUser": user_id,
        "full_name": f"Bench User {seq % 2}",
        "email": f"bench{user_id}@seam.bench",
        "roleId": 1,
        "roleName": "admin",
        "roleDescription": "Administrador",
        "isActive": 1,
        "mustChangePassword": 0,
        "createdAt": now,
        "updatedAt": now,
    }
    return {
        "operation": "users:update",
        "message": "Usuario actualizado",
        "data": user,
        "initiatorSocketId": None,
        "operationId": uuid.uuid4().hex,
        "seq": seq,
        "at": now,
    }


class HealthHandler(tornado.web.RequestHandler):
    def get(self):
        self.finish({"success": True})


def bare(port, rows_path):
    with open(rows_path) as f:
        body = json.load(f)

    class UsersHandler(tornado.web.RequestHandler):
        def get(self):
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps(body))

    return tornado.web.Application([(r"/api/v1/users", UsersHandler), (r"/healthz", HealthHandler)])


def stock(port, gc_mode):
    sio = socketio.AsyncServer(async_mode="tornado", logger=False, engineio_logger=False)
    counter = [0]

    @sio.on("connect")
    async def connect(sid, environ, auth):
        if not (isinstance(auth, dict) and auth.get("token")):
            raise socketio.exceptions.ConnectionRefusedError("token required")
        await sio.enter_room(sid, "authenticated")

    class UserHandler(tornado.web.RequestHandler):
        async def put(self, user_id):
            counter[0] += 1
            payload = change_payload(counter[0], int(user_id))
            await sio.emit("data:changed", payload, to="authenticated")
            self.finish({"success": True, "data": payload["data"]})

    app = tornado.web.Application(
        [
            (r"/api/v1/users/(\d+)", UserHandler),
            (r"/healthz", HealthHandler),
            (r"/socket\.io/", socketio.get_tornado_handler(sio)),
        ]
    )
    if gc_mode == "tuned":
        asyncio.get_running_loop().call_soon(tune_gc)
    return app


def ws_frame(text):
    data = text.encode()
    if len(data) < 126:
        return bytes([0x81, len(data)]) + data
    return bytes([0x81, 126]) + len(data).to_bytes(2, "big") + data


class FloorConnection(asyncio.Protocol):
    """HTTP/1.1 keep-alive or, after an upgrade, one websocket with the Engine.IO handshake."""

    sockets = set()
    seq = 0

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = bytearray()
        self.websocket = False

    def connection_lost(self, exc):
        FloorConnection.sockets.discard(self)

    def data_received(self, data):
        self.buffer += data
        while self.buffer:
            if not (self.read_frame() if self.websocket else self.read_request()):
                return

    def read_request(self):
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        length = int(headers.get("content-length", 0))
        if len(self.buffer) < end + 4 + length:
            return False
        del self.buffer[: end + 4 + length]
        method, path = head[0].split(" ")[:2]
        if headers.get("upgrade", "").lower() == "websocket":
            accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + WS_GUID).digest())  # noqa: S324 RFC 6455
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.transport.write(ws_frame('0{"sid":"floor","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'))
            self.websocket = True
            return True
        if method == "PUT":
            FloorConnection.seq += 1
            payload = change_payload(FloorConnection.seq, int(path.rsplit("/", 1)[1]))
            frame = ws_frame("42" + json.dumps(["data:changed", payload], separators=(",", ":")))
            for connection in FloorConnection.sockets:
                connection.transport.write(frame)
            body = json.dumps({"success": True, "data": payload["data"]}).encode()
        else:
            body = b'{"success": true}'
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        return True

    def read_frame(self):
        if len(self.buffer) < 6:
            return False
        size = self.buffer[1] & 0x7F
        offset = 2 if size < 126 else 4
        if size == 126:
            size = int.from_bytes(self.buffer[2:4], "big")
        if len(self.buffer) < offset + 4 + size:
            return False
        mask = self.buffer[offset : offset + 4]
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.buffer[offset + 4 : offset + 4 + size]))
        opcode = self.buffer[0] & 0x0F
        del self.buffer[: offset + 4 + size]
        if opcode == 8:
            self.transport.close()
        elif data.startswith(b"40"):
            self.transport.write(ws_frame('40{"sid":"floor"}'))
            FloorConnection.sockets.add(self)
        return True


async def main():
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "floor":
        await asyncio.get_running_loop().create_server(FloorConnection, "127.0.0.1", port)  # TCP_NODELAY: asyncio's
    else:
        app = bare(port, sys.argv[3]) if kind == "bare" else stock(port, sys.argv[3])
        tornado.httpserver.HTTPServer(app).listen(port, "127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
