// Roles: list, create, edit, delete (a role still held by users answers 409, explained) — live.
import { ApiError, call } from '../api.js';
import { flash, h, replace, serialized, spinnerBlock } from '../dom.js';
import { can, session } from '../session.js';
import { S } from '../strings.js';
import { confirmDialog, formDialog } from '../ui/dialog.js';
import { badge, button, dataTable, emptyState, pageHeader, rowActions } from '../ui/table.js';

export function rolesView(root) {
  const state = { rows: [], loaded: false, failed: false };
  const header = h('div');
  const body = h('div', { class: 'card-body' });
  replace(root, header, h('section', { class: 'card' }, body));

  const reload = serialized(async (highlight = [], quiet = false) => {
    try {
      const { data } = await call('GET', '/roles', { op: 'roles:fetchAll', quiet });
      Object.assign(state, { rows: data, loaded: true, failed: false });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      state.failed = !state.loaded;
    }
    render();
    flash(body, highlight);
  });

  function upsert(role) {
    const index = state.rows.findIndex((r) => r.idRole === role.idRole);
    if (index < 0) state.rows.push(role);
    else state.rows[index] = { ...state.rows[index], ...role };
    render();
    flash(body, [role.idRole]);
  }

  function render() {
    const add =
      can('POST', '/roles') &&
      button(S.newRole, { icon: 'plus', kind: 'primary', onClick: openCreate, testid: 'new-role' });
    replace(header, pageHeader(S.roles, S.rolesSubtitle, [add]));
    if (!state.loaded)
      return replace(body, state.failed ? emptyState({ title: S.requestFailed }) : spinnerBlock(S.loading));
    const mine = session.user?.roleId;
    const columns = [
      {
        label: S.roleName,
        className: 'col-main',
        render: (r) =>
          h('strong', { class: 'role-name' }, r.roleName, r.idRole === mine ? badge(S.yourRole, 'info') : null),
      },
      {
        label: S.description,
        render: (r) => h('span', { class: r.description ? '' : 'muted', text: r.description || S.none }),
      },
      {
        label: S.actions,
        className: 'col-actions',
        hidden: !can('PUT', '/roles/:idRole') && !can('DELETE', '/roles/:idRole'),
        render: (r) =>
          rowActions(
            can('PUT', '/roles/:idRole') &&
              button('', { icon: 'edit', title: S.edit, small: true, testid: 'edit', onClick: () => openEdit(r) }),
            can('DELETE', '/roles/:idRole') &&
              button('', {
                icon: 'trash',
                title: S.delete,
                small: true,
                kind: 'ghost-danger',
                testid: 'delete',
                onClick: () => remove(r),
              }),
          ),
      },
    ];
    replace(
      body,
      dataTable({
        columns,
        rows: state.rows,
        key: (r) => r.idRole,
        empty: { icon: 'shield', title: S.noRoles, hint: S.noRolesHint },
        inlineActions: true,
      }),
    );
  }

  const fields = [
    { name: 'roleName', label: S.roleName, required: true, minlength: 2, maxlength: 50 },
    { name: 'description', label: S.description, type: 'textarea', maxlength: 255 },
  ];

  function openCreate() {
    return formDialog({
      title: S.newRole,
      submitLabel: S.create,
      fields,
      onSubmit: async (v) => {
        const body = { roleName: v.roleName, description: v.description.trim() || null };
        const { data } = await call('POST', '/roles', { body, op: 'roles:create', alertErrors: false });
        upsert(data);
      },
    });
  }

  function openEdit(role) {
    return formDialog({
      title: S.editRole,
      fields,
      initial: role,
      onSubmit: async (v) => {
        const body = { roleName: v.roleName, description: v.description.trim() || null };
        const { data } = await call('PUT', `/roles/${role.idRole}`, { body, op: 'roles:update', alertErrors: false });
        upsert(data);
      },
    });
  }

  function remove(role) {
    return confirmDialog({
      title: S.deleteRoleTitle,
      message: S.deleteRoleConfirm(role.roleName),
      confirmLabel: S.confirmDelete,
      hints: { 409: S.roleInUseHint },
      onConfirm: async () => {
        await call('DELETE', `/roles/${role.idRole}`, { op: 'roles:delete', alertErrors: false });
        state.rows = state.rows.filter((r) => r.idRole !== role.idRole);
        render();
      },
    });
  }

  render();
  reload();

  return {
    onSession: render,
    onReset: () => reload([], true),
    onChange(change, own) {
      if (own) return;
      const { operation, data } = change;
      if ((operation === 'roles:create' || operation === 'roles:update') && data?.idRole) upsert(data);
      else if (operation === 'roles:delete' && data?.idRole) {
        state.rows = state.rows.filter((r) => r.idRole !== data.idRole);
        render();
      }
    },
  };
}
