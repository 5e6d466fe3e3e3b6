// SPDX-License-Identifier: MIT
// Boot and wiring: session → shell → routed view; socket events → progress, sync, session updates.
import { call, onUnauthorized } from './api.js';
import { h, replace } from './dom.js';
import { clearProgress, onProgress } from './progress.js';
import { clearSession, onSessionChange, session, setToken, setView, tokenSecondsLeft } from './session.js';
import { createShell, routeOf } from './shell.js';
import { connectSocket, disconnectSocket, handshakeToken } from './socket.js';
import { S } from './strings.js';
import { toast } from './toast.js';
import { baseline, catchUp, onChange, onReset, receive, resetSync } from './sync.js';
import { emptyState } from './ui/table.js';
import { accountView } from './views/account.js';
import { activityView } from './views/activity.js';
import { showLogin, showPasswordChange } from './views/login.js';
import { menuView } from './views/menu.js';
import { permissionsView } from './views/permissions.js';
import { rolesView } from './views/roles.js';
import { usersView } from './views/users.js';

const VIEWS = {
  '/users': usersView,
  '/roles': rolesView,
  '/permissions': permissionsView,
  '/menu': menuView,
  '/activity': activityView,
};
const OWN = { '/account': accountView }; // every signed-in user's, whatever their menu holds
const root = document.getElementById('app');
let shell = null;
let current = { route: null, controller: null };
let refreshTimer = null;

function currentRoute() {
  return decodeURIComponent(location.hash.slice(1));
}

function isOwn(route) {
  return Object.hasOwn(OWN, route);
}

function route() {
  if (!shell) return;
  const items = session.sidebarItems;
  const wanted = currentRoute();
  const item = items.find((i) => routeOf(i) === wanted);
  const known = Boolean(item) || isOwn(wanted);
  if (!known && items.length) {
    location.replace(`#${routeOf(items[0])}`);
    return;
  }
  shell.renderNav(known ? wanted : null);
  if (current.route === wanted && current.controller && known) return;
  const container = h('div', { class: 'view' });
  replace(shell.view, container);
  current = { route: known ? wanted : null, controller: null };
  if (!known) {
    replace(container, emptyState({ icon: 'menu', title: S.noSections, hint: S.noSectionsHint }));
    return;
  }
  const make = isOwn(wanted) ? OWN[wanted] : VIEWS[wanted];
  if (make) current.controller = make(container);
  else
    replace(container, emptyState({ icon: 'link', title: S.unknownSection, hint: S.unknownSectionHint(item.route) }));
}

/** session:changed (or a fresh /auth/me): rebuild the menu and permission-dependent actions in place. */
onSessionChange(() => {
  if (!shell) return;
  const still = isOwn(current.route) || session.sidebarItems.some((i) => routeOf(i) === current.route);
  if (still) {
    shell.renderNav(current.route);
    current.controller?.onSession();
  } else {
    current = { route: null, controller: null };
    route();
  }
});

onChange((change, own) => current.controller?.onChange(change, own));
onReset(() => {
  toast('info', S.reloaded);
  current.controller?.onReset();
});
window.addEventListener('hashchange', route);
onUnauthorized(() => logout(S.sessionExpired));

const REFRESH_RETRY_SECONDS = 30;

/**
 * Renew the token at three quarters of its life (retrying while offline), so an open tab never expires.
 * No floor above that: `exp` is in whole seconds, so a 6 s token may have 5.1 s left, and a 5 s floor
 * renewed it at the moment it expired (a race the tab lost under load, and was logged out).
 */
function scheduleRefresh(seconds = null) {
  clearTimeout(refreshTimer);
  const left = tokenSecondsLeft();
  if (left === null) return;
  refreshTimer = setTimeout(
    async () => {
      try {
        const { data } = await call('POST', '/auth/refresh', { quiet: true, alertErrors: false });
        setToken(data.token);
        scheduleRefresh();
      } catch (error) {
        // 401 already sent the tab to the login screen; a network error is retried.
        if (error.status === 0) scheduleRefresh(REFRESH_RETRY_SECONDS);
      }
    },
    (seconds ?? Math.max(1, left * 0.75)) * 1000,
  );
}

async function enter(view) {
  setView(view);
  const mine = createShell(root, () => logout());
  shell = mine;
  current = { route: null, controller: null };
  await baseline().catch(() => {}); // without it the first (re)connect's catch-up starts from seq 0
  if (shell !== mine) return; // logged out meanwhile
  route();
  scheduleRefresh();
  connectSocket(() => session.token, {
    status: (state) => shell?.setStatus(state),
    connected: () => catchUp().catch(() => {}),
    refused: () => logout(S.sessionExpired),
    progress: onProgress,
    dataChanged: receive,
    sessionChanged: (data) => setView(data),
    sessionRevoked: ({ reason }) => {
      // The socket outlived the token it connected with, but the tab already holds a fresher one: it reconnects.
      if (reason === 'expired' && session.token !== handshakeToken()) return;
      logout(S.revoked[reason] || S.sessionClosed);
    },
  });
}

function logout(notice) {
  clearTimeout(refreshTimer);
  disconnectSocket();
  clearSession();
  clearProgress();
  resetSync();
  for (const dialog of document.querySelectorAll('dialog')) dialog.close();
  shell = null;
  current = { route: null, controller: null };
  showLogin(root, notice, afterLogin);
}

async function afterLogin(data) {
  setToken(data.token);
  if (data.mustChangePassword) return showPasswordChange(root, afterPasswordChange, () => logout());
  await enter(data);
}

async function afterPasswordChange(token) {
  setToken(token);
  const { data } = await call('GET', '/auth/me', { quiet: true });
  await enter(data);
}

async function boot() {
  if (!session.token) return showLogin(root, null, afterLogin);
  try {
    const { data } = await call('GET', '/auth/me', { quiet: true, alertErrors: false });
    if (data.mustChangePassword) showPasswordChange(root, afterPasswordChange, () => logout());
    else await enter(data);
  } catch (error) {
    if (error.status !== 401) showLogin(root, error.message, afterLogin);
  }
}

boot();
