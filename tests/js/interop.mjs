// SPDX-License-Identifier: MIT
// The official socket.io-client against a live SEAM: handshake errors, then one tab's operation seen live.
// Usage: node interop.mjs <base url> <email> <password>; prints one JSON report on stdout.
import { io } from "socket.io-client";

const [base, email, password] = process.argv.slice(2);
const deadline = setTimeout(() => fail("timed out"), 15000);

function fail(reason) {
  console.error(reason);
  process.exit(1);
}

function refusal(auth) {
  return new Promise((resolve) => {
    const socket = io(base, { auth, reconnection: false, forceNew: true });
    socket.on("connect", () => fail("connected without a valid token"));
    socket.on("connect_error", (error) => {
      socket.close();
      resolve(error.message);
    });
  });
}

function open(token, transports) {
  return new Promise((resolve, reject) => {
    const socket = io(base, { auth: { token }, reconnection: false, forceNew: true, transports });
    const events = [];
    socket.onAny((name, payload) => events.push([name, payload]));
    socket.on("connect", () => resolve({ socket, events }));
    socket.on("connect_error", reject);
  });
}

async function until(check) {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const login = await fetch(`${base}/api/v1/auth/login`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ email, password }),
});
const { token } = (await login.json()).data;

const report = {
  missingToken: await refusal({}),
  badToken: await refusal({ token: "not-a-token" }),
};

// Default transports (long-polling, then the websocket upgrade) for the tab; websocket only for the other.
const tab = await open(token, undefined);
const other = await open(token, ["websocket"]);
const created = await fetch(`${base}/api/v1/roles`, {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    Authorization: `Bearer ${token}`,
    "X-Socket-ID": tab.socket.id,
    "X-Operation-ID": "js-op-1",
  },
  body: JSON.stringify({ roleName: "from-node" }),
});
report.status = created.status;
report.operationIdHeader = created.headers.get("x-operation-id");
await until(() => tab.events.some(([name]) => name === "data:changed"));
await until(() => other.events.some(([name]) => name === "data:changed"));
report.tabSocketId = tab.socket.id;
report.tab = tab.events;
report.other = other.events;
tab.socket.close();
other.socket.close();
clearTimeout(deadline);
// Exit explicitly: fetch's keep-alive connections to the server would keep Node running.
process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(0));
