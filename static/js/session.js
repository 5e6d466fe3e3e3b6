// SPDX-License-Identifier: MIT
// The signed-in user's token, profile, permissions and menu, and who listens for their changes.

const STORAGE_KEY = 'seam.token';
const listeners = new Set();

export const session = {
  token: sessionStorage.getItem(STORAGE_KEY),
  user: null,
  permissions: new Set(),
  sidebarItems: [],
};

export function setToken(token) {
  session.token = token;
  if (token) sessionStorage.setItem(STORAGE_KEY, token);
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** Apply a {user, permissions, sidebarItems} view (login, /auth/me, session:changed). */
export function setView({ user, permissions, sidebarItems }) {
  session.user = user;
  session.permissions = new Set((permissions || []).map((name) => name.toLowerCase()));
  session.sidebarItems = sidebarItems || [];
  for (const fn of listeners) fn(session);
}

export function clearSession() {
  setToken(null);
  session.user = null;
  session.permissions = new Set();
  session.sidebarItems = [];
}

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** May the user call this route? `can('PUT', '/users/:id')` — the permission name the server checks. */
export function can(method, pattern) {
  return session.permissions.has(`${method} /api/v1${pattern}`.toLowerCase());
}

/** The token's claims (exp, auth_time: when this session began…), or null when unreadable. */
export function tokenClaims(token = session.token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return null;
  }
}

/** Seconds until the token expires (from its `exp` claim), or null when unreadable. */
export function tokenSecondsLeft(token = session.token) {
  const claims = tokenClaims(token);
  return typeof claims?.exp === 'number' ? claims.exp - Date.now() / 1000 : null;
}
