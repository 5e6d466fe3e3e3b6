// SPDX-License-Identifier: MIT
// The signed-in layout: brand, navigation built from the user's sidebarItems, connection state, user menu.
import { h, hasIcon, icon, replace } from './dom.js';
import { session } from './session.js';
import { S } from './strings.js';

export function routeOf(item) {
  return item.route || `/item-${item.idItem}`;
}

/** The server's version, from /healthz: what to quote in a bug report. */
async function showVersion(footer) {
  try {
    const response = await fetch('/healthz', { cache: 'no-store' });
    const { data } = await response.json();
    if (data?.version) footer.textContent = S.version(data.version);
  } catch {
    // No version while the server is unreachable; the connection status says so already.
  }
}

export function createShell(root, onLogout) {
  const nav = h('nav', { class: 'nav', 'aria-label': S.navLabel });
  const status = h(
    'span',
    { class: 'status', dataset: { state: 'reconnecting' } },
    h('span', { class: 'status-dot' }),
    h('span', { class: 'status-text', text: S.reconnecting }),
  );
  const who = h('a', { class: 'who', href: '#/account', title: S.account, dataset: { action: 'account' } });
  const view = h('main', { class: 'content', id: 'view' });
  const footer = h('footer', { class: 'footer muted' });
  showVersion(footer);
  const logout = h(
    'button',
    { type: 'button', class: 'btn btn-ghost', 'data-action': 'logout', on: { click: onLogout } },
    icon('logout'),
    h('span', { class: 'hide-sm', text: S.logout }),
  );
  replace(
    root,
    h(
      'div',
      { class: 'layout' },
      h(
        'aside',
        { class: 'sidebar' },
        h(
          'div',
          { class: 'sidebar-inner' },
          h('div', { class: 'brand' }, h('span', { class: 'logo' }, icon('shield')), h('strong', { text: S.appName })),
          nav,
        ),
      ),
      h(
        'div',
        { class: 'main-col' },
        h('header', { class: 'topbar' }, status, h('div', { class: 'topbar-right' }, who, logout)),
        view,
        footer,
      ),
    ),
  );

  return {
    view,
    renderNav(current) {
      replace(
        nav,
        session.sidebarItems.map((item) => {
          const route = routeOf(item);
          return h(
            'a',
            {
              href: `#${route}`,
              class: `nav-link${route === current ? ' active' : ''}`,
              'aria-current': route === current ? 'page' : null,
              dataset: { route },
            },
            icon(hasIcon(item.iconItem) ? item.iconItem : 'dot'),
            h('span', { text: item.nameItem }),
          );
        }),
      );
      nav.querySelector('.active')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const user = session.user;
      who.classList.toggle('active', current === '/account');
      if (current === '/account') who.setAttribute('aria-current', 'page');
      else who.removeAttribute('aria-current');
      replace(
        who,
        h('span', { class: 'avatar avatar-sm', text: (user?.full_name || '?')[0].toUpperCase() }),
        h(
          'span',
          { class: 'who-text' },
          h('strong', { text: user?.full_name || '' }),
          h('span', { class: 'muted', text: S.account }),
        ),
      );
    },
    setStatus(state) {
      status.dataset.state = state;
      status.querySelector('.status-text').textContent = {
        live: S.live,
        reconnecting: S.reconnecting,
        offline: S.offline,
      }[state];
    },
  };
}
