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

/** Seconds until the token expires (from its `exp` claim), or null when unreadable. */
export function tokenSecondsLeft(token = session.token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return payload.exp - Date.now() / 1000;
  } catch {
    return null;
  }
}
