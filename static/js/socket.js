// SPDX-License-Identifier: MIT
// The Socket.IO connection (vendored client, window.io): handshake with the token, reconnects, and its events.

let socket = null;
let offline = false;
let handshake = null; // the token the current connection was opened with
let hooks = {};

/** This tab's socket id while connected: sent as X-Socket-ID so progress events come back here. */
export function socketId() {
  return socket && socket.connected ? socket.id : null;
}

function status(value) {
  hooks.status?.(value);
}

function goOffline() {
  offline = true;
  status('offline');
  socket?.disconnect();
}

function goOnline() {
  if (!offline) return;
  offline = false;
  status('reconnecting');
  socket?.connect();
}

/**
 * Open the socket. hooks: status(live|reconnecting|offline), connected(isReconnect), refused(message),
 * plus one function per server event: progress, dataChanged, sessionChanged, sessionRevoked.
 */
export function connectSocket(getToken, eventHooks) {
  disconnectSocket();
  hooks = eventHooks;
  let everConnected = false;
  const auth = (cb) => {
    handshake = getToken();
    cb({ token: handshake });
  };
  socket = window.io({ auth, transports: ['websocket'] });
  socket.on('connect', () => {
    status('live');
    hooks.connected?.(everConnected);
    everConnected = true;
  });
  socket.on('disconnect', (reason) => {
    if (offline) return;
    status('reconnecting');
    // The server closed this socket without revoking the session (e.g. a restart): knock again.
    if (reason === 'io server disconnect') setTimeout(() => socket?.connect(), 1000);
  });
  socket.on('connect_error', (error) => {
    if (socket && !socket.active) hooks.refused?.(error.message);
    else if (!offline) status('reconnecting');
  });
  socket.on('operation:progress', (event) => hooks.progress?.(event));
  socket.on('data:changed', (event) => hooks.dataChanged?.(event));
  socket.on('session:changed', (event) => hooks.sessionChanged?.(event));
  socket.on('session:revoked', (event) => hooks.sessionRevoked?.(event));
  window.addEventListener('offline', goOffline);
  window.addEventListener('online', goOnline);
  offline = navigator.onLine === false;
  if (offline) goOffline();
}

export function handshakeToken() {
  return handshake;
}

export function disconnectSocket() {
  window.removeEventListener('offline', goOffline);
  window.removeEventListener('online', goOnline);
  if (socket) {
    const closing = socket;
    socket = null;
    closing.removeAllListeners();
    closing.disconnect();
  }
  hooks = {};
  offline = false;
}
