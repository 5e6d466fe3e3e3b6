// SPDX-License-Identifier: MIT
// "Mi cuenta": every signed-in user's own profile, password change and "close my other sessions", whatever the menu.
import { formatDate, h, replace } from '../dom.js';
import { session, setToken, tokenClaims } from '../session.js';
import { S } from '../strings.js';
import { confirmDialog, dialogCall } from '../ui/dialog.js';
import { badge, button, pageHeader } from '../ui/table.js';
import { authForm, passwordChange } from './login.js';

function card(title, hint, ...body) {
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', { text: title }), hint ? h('p', { class: 'muted', text: hint }) : null),
    h('div', { class: 'card-pad' }, body),
  );
}

function detail(label, ...value) {
  return h('div', { class: 'detail' }, h('dt', { text: label }), h('dd', {}, value));
}

export function accountView(root) {
  const profile = h('div', { class: 'profile' });
  const change = passwordChange((token) => {
    setToken(token);
    for (const field of change.fields) field.el.value = '';
  });
  const passwordForm = authForm(change.fields, S.changePasswordSave, change.submit);
  passwordForm.classList.add('account-form');
  const others = button(S.logoutOthers, { icon: 'logout', onClick: logoutOthers, testid: 'logout-others' });

  replace(
    root,
    pageHeader(S.account, S.accountSubtitle),
    h(
      'div',
      { class: 'account-grid' },
      h('section', { class: 'card' }, profile),
      h(
        'div',
        { class: 'account-side' },
        card(S.changePasswordCardTitle, S.changePasswordHint, passwordForm),
        card(S.sessionsTitle, S.sessionsHint, h('div', { class: 'card-actions' }, others)),
      ),
    ),
  );

  function renderProfile() {
    const user = session.user || {};
    const started = tokenClaims()?.auth_time;
    replace(
      profile,
      h(
        'div',
        { class: 'profile-head' },
        h('span', { class: 'avatar avatar-lg', text: (user.full_name || '?')[0].toUpperCase() }),
        h(
          'div',
          { class: 'identity-text' },
          h('strong', { class: 'profile-name', text: user.full_name }),
          h('span', { class: 'muted', text: user.email }),
        ),
      ),
      h(
        'dl',
        { class: 'details' },
        detail(
          S.role,
          badge(user.roleName || S.none, 'role'),
          user.roleDescription ? h('span', { class: 'muted', text: ` ${user.roleDescription}` }) : null,
        ),
        detail(
          S.yourSections,
          session.sidebarItems.length
            ? h(
                'span',
                { class: 'chips' },
                session.sidebarItems.map((item) => badge(item.nameItem)),
              )
            : h('span', { class: 'muted', text: S.noSections }),
        ),
        detail(S.memberSince, formatDate(user.createdAt)),
        started ? detail(S.sessionStarted, formatDate(new Date(started * 1000).toISOString())) : null,
      ),
      h('p', { class: 'field-hint', text: S.roleHint }),
    );
  }

  async function logoutOthers() {
    await confirmDialog({
      title: S.logoutOthers,
      message: S.logoutOthersConfirm,
      confirmLabel: S.logoutOthersButton,
      onConfirm: async () => setToken((await dialogCall('POST', '/auth/logoutOthers', 'auth:logoutOthers')).token),
    });
  }

  renderProfile();

  return { onSession: renderProfile, onReset: () => {}, onChange: () => {} };
}
