// SPDX-License-Identifier: MIT
// Users: paged, searchable table; create, edit, enable/disable, reset password, delete — live.
import { call } from '../api.js';
import { debounce, flash, formatDate, h, icon, replace, serialized } from '../dom.js';
import { can, session } from '../session.js';
import { S } from '../strings.js';
import { confirmDialog, deleteDialog, dialogCall, formDialog, infoDialog } from '../ui/dialog.js';
import { loadInto } from '../ui/records.js';
import {
  actionsColumn,
  badge,
  button,
  dataTable,
  deleteButton,
  editButton,
  forbiddenState,
  pageHeader,
  pendingState,
  rowButton,
} from '../ui/table.js';

const LIMIT = 20;

export function usersView(root) {
  const state = { page: 1, q: '', rows: [], total: 0, loaded: false, failed: false };
  const header = h('div');
  const body = h('div', { class: 'card-body' });
  const pager = h('div', { class: 'pager' });
  const search = h('input', {
    type: 'search',
    class: 'search-input',
    placeholder: S.searchUsers,
    'aria-label': S.searchUsers,
    maxlength: 100,
  });
  search.addEventListener(
    'input',
    debounce(() => {
      state.q = search.value.trim();
      state.page = 1;
      reload();
    }, 250),
  );
  const toolbar = h('div', { class: 'toolbar' }, h('label', { class: 'search' }, icon('search'), search));
  replace(root, header, h('section', { class: 'card' }, toolbar, body, pager));

  const fetchPage = (quiet) =>
    call('GET', '/users', { query: { page: state.page, limit: LIMIT, q: state.q }, op: 'users:fetchAll', quiet });

  const reload = serialized(async (highlight = [], quiet = false) => {
    if (!can('GET', '/users')) return render();
    await loadInto(state, async () => {
      let { data, meta } = await fetchPage(quiet);
      if (!data.length && state.page > 1 && meta.total > 0) {
        // The page emptied under us: show the last one (not a reload(), which would wait for this very run).
        state.page = Math.max(1, Math.ceil(meta.total / LIMIT));
        ({ data, meta } = await fetchPage(quiet));
      }
      return { rows: data, total: meta.total };
    });
    render();
    flash(body, highlight);
  });

  function patch(user, highlight = true) {
    const index = state.rows.findIndex((row) => row.idUser === user.idUser);
    if (index < 0) return false;
    state.rows[index] = { ...state.rows[index], ...user };
    render();
    if (highlight) flash(body, [user.idUser]);
    return true;
  }

  function renderHeader() {
    const add =
      can('POST', '/users') &&
      button(S.newUser, { icon: 'plus', kind: 'primary', onClick: openCreate, testid: 'new-user' });
    replace(header, pageHeader(S.users, S.usersSubtitle, [add]));
  }

  function render() {
    renderHeader();
    toolbar.hidden = !can('GET', '/users');
    if (!can('GET', '/users')) {
      replace(pager);
      return replace(body, forbiddenState());
    }
    if (!state.loaded) return replace(body, pendingState(state.failed));
    const empty = state.q
      ? { icon: 'search', title: S.noMatches, hint: S.noMatchesHint(state.q) }
      : { icon: 'users', title: S.noUsers, hint: S.noUsersHint };
    replace(
      body,
      dataTable({
        columns: columns(),
        rows: state.rows,
        key: (u) => u.idUser,
        empty,
        rowClass: (u) => (u.isActive ? null : 'row-muted'),
      }),
    );
    renderPager();
  }

  function renderPager() {
    if (!state.total) return replace(pager);
    const from = (state.page - 1) * LIMIT + 1;
    const to = Math.min(state.total, from + state.rows.length - 1);
    const last = Math.max(1, Math.ceil(state.total / LIMIT));
    const go = (page) => () => {
      state.page = page;
      reload();
    };
    const prev = button('', { icon: 'left', title: S.previous, small: true, onClick: go(state.page - 1) });
    const next = button('', { icon: 'right', title: S.next, small: true, onClick: go(state.page + 1) });
    prev.disabled = state.page <= 1;
    next.disabled = state.page >= last;
    replace(
      pager,
      h('span', { class: 'muted', text: S.pageInfo(from, to, state.total) }),
      h('div', { class: 'pager-buttons' }, prev, next),
    );
  }

  function columns() {
    const me = session.user?.idUser;
    return [
      {
        label: S.user,
        className: 'col-main',
        render: (u) =>
          h(
            'div',
            { class: 'identity' },
            h('span', { class: 'avatar', text: initials(u.full_name) }),
            h(
              'div',
              { class: 'identity-text' },
              h('strong', { class: 'user-name' }, u.full_name, u.idUser === me ? badge(S.you, 'info') : null),
              h('span', { class: 'muted', text: u.email }),
            ),
          ),
      },
      { label: S.role, render: (u) => badge(u.roleName || S.none, 'role') },
      {
        label: S.state,
        render: (u) =>
          h(
            'div',
            { class: 'stack' },
            u.isActive ? badge(S.active, 'success') : badge(S.inactive, 'muted'),
            u.mustChangePassword ? badge(S.mustChange, 'warning') : null,
          ),
      },
      {
        label: S.createdAt,
        className: 'col-date',
        render: (u) => h('span', { class: 'muted', text: formatDate(u.createdAt) }),
      },
      actionsColumn(
        !['/users/:id', '/users/:id/state', '/users/:id/resetPassword'].some((p) => can('PUT', p)) &&
          !can('DELETE', '/users/:id'),
        // No disable or delete on one's own row: the API refuses both (409).
        (u) => [
          can('PUT', '/users/:id') && editButton(() => openEdit(u)),
          can('PUT', '/users/:id/state') &&
            u.idUser !== me &&
            rowButton('power', u.isActive ? S.disable : S.enable, u.isActive ? 'disable' : 'enable', () => toggle(u)),
          can('PUT', '/users/:id/resetPassword') &&
            rowButton('reset', S.resetPassword, 'reset', () => resetPassword(u)),
          can('DELETE', '/users/:id') && u.idUser !== me && deleteButton(() => remove(u)),
        ],
      ),
    ];
  }

  async function roleOptions() {
    const { data } = await call('GET', '/roles', { op: 'roles:fetchAll' });
    return data.map((r) => ({ value: r.idRole, label: r.roleName }));
  }

  function userFields(options, creating) {
    return [
      { name: 'full_name', label: S.fullName, required: true, minlength: 2, maxlength: 100, autocomplete: 'name' },
      { name: 'email', label: S.email, type: 'email', required: true, maxlength: 100, autocomplete: 'email' },
      {
        name: 'password',
        label: S.password,
        type: 'password',
        required: creating,
        maxlength: 100,
        autocomplete: 'new-password',
        hint: creating ? null : S.passwordKeep,
      },
      { name: 'roleId', label: S.role, type: 'select', required: true, options },
    ];
  }

  async function openCreate() {
    const options = await roleOptions().catch(() => null);
    if (!options) return;
    await formDialog({
      title: S.newUser,
      submitLabel: S.create,
      fields: userFields(options, true),
      onSubmit: async (v) => {
        const body = { full_name: v.full_name, email: v.email, password: v.password, roleId: Number(v.roleId) };
        const created = await dialogCall('POST', '/users', 'users:create', body);
        await reload([created.idUser]);
      },
    });
  }

  async function openEdit(user) {
    const options = await roleOptions().catch(() => null);
    if (!options) return;
    await formDialog({
      title: S.editUser,
      fields: userFields(options, false),
      initial: user,
      onSubmit: async (v) => {
        const body = { full_name: v.full_name, email: v.email, roleId: Number(v.roleId) };
        if (v.password) body.password = v.password;
        patch(await dialogCall('PUT', `/users/${user.idUser}`, 'users:update', body));
      },
    });
  }

  async function setActive(user, isActive) {
    const { data } = await call('PUT', `/users/${user.idUser}/state`, {
      body: { isActive },
      op: 'users:state',
      alertErrors: Boolean(isActive), // disabling happens in a dialog, which shows the error itself
    });
    patch(data);
  }

  async function toggle(user) {
    if (!user.isActive) return setActive(user, 1).catch(() => {});
    await confirmDialog({
      title: S.disableUserTitle,
      message: S.disableUserConfirm(user.full_name),
      confirmLabel: S.disable,
      onConfirm: () => setActive(user, 0),
    });
  }

  async function resetPassword(user) {
    let temporary = null;
    await confirmDialog({
      title: S.resetPassword,
      message: S.resetConfirm(user.full_name),
      confirmLabel: S.resetConfirmButton,
      danger: false,
      onConfirm: async () => {
        const path = `/users/${user.idUser}/resetPassword`;
        temporary = (await dialogCall('PUT', path, 'users:resetPassword')).temporaryPassword;
      },
    });
    if (!temporary) return;
    patch({ idUser: user.idUser, mustChangePassword: 1 });
    await infoDialog({ title: S.temporaryPasswordTitle, body: secretBox(temporary) });
  }

  async function remove(user) {
    await deleteDialog({
      title: S.deleteUserTitle,
      message: S.deleteUserConfirm(user.full_name),
      path: `/users/${user.idUser}`,
      op: 'users:delete',
      onDeleted: () => {
        state.rows = state.rows.filter((row) => row.idUser !== user.idUser);
        state.total -= 1;
        render();
        reload([], true);
      },
    });
  }

  render();
  reload();

  return {
    onSession: () => (state.loaded ? render() : reload()),
    onReset: () => reload([], true),
    onChange(change, own) {
      if (own) return;
      const { operation, data } = change;
      if (operation === 'users:update' && data?.idUser) {
        if (!patch(data)) return;
      } else if (operation === 'users:create' || operation === 'auth:register' || operation === 'users:delete') {
        reload(operation === 'users:delete' ? [] : [data?.idUser], true);
      } else if (operation === 'roles:update' && data?.idRole) {
        const touched = state.rows.filter((u) => u.roleId === data.idRole);
        for (const u of touched) u.roleName = data.roleName;
        if (touched.length) render();
      }
    },
  };
}

function initials(name) {
  return (name || '?')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0].toUpperCase())
    .join('');
}

/** The temporary password, once, with a copy button that also works outside secure contexts. */
function secretBox(secret) {
  const input = h('input', {
    class: 'secret',
    type: 'text',
    readonly: true,
    value: secret,
    'aria-label': S.temporaryPasswordTitle,
  });
  const copy = async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(secret);
    } catch {
      document.execCommand('copy');
    }
    copyButton.querySelector('span').textContent = S.copied;
  };
  const copyButton = button(S.copy, { icon: 'copy', kind: 'primary', onClick: copy, testid: 'copy' });
  return h(
    'div',
    {},
    h('p', { class: 'field-hint', text: S.temporaryPasswordHint }),
    h('div', { class: 'secret-row' }, input, copyButton),
  );
}
