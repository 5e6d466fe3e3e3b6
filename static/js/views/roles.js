// SPDX-License-Identifier: MIT
// Roles: list, create, edit, delete (a role still held by users answers 409, explained) — live.
import { call } from '../api.js';
import { flash, h, replace, serialized } from '../dom.js';
import { can, session } from '../session.js';
import { S } from '../strings.js';
import { deleteDialog, dialogCall, formDialog } from '../ui/dialog.js';
import { loadInto, putRow } from '../ui/records.js';
import {
  actionsColumn,
  badge,
  button,
  dataTable,
  deleteButton,
  editButton,
  pageHeader,
  pendingState,
} from '../ui/table.js';

export function rolesView(root) {
  const state = { rows: [], loaded: false, failed: false };
  const header = h('div');
  const body = h('div', { class: 'card-body' });
  replace(root, header, h('section', { class: 'card' }, body));

  const reload = serialized(async (highlight = [], quiet = false) => {
    await loadInto(state, async () => ({ rows: (await call('GET', '/roles', { op: 'roles:fetchAll', quiet })).data }));
    render();
    flash(body, highlight);
  });

  function upsert(role) {
    putRow(state.rows, 'idRole', role);
    render();
    flash(body, [role.idRole]);
  }

  function drop(idRole) {
    state.rows = state.rows.filter((r) => r.idRole !== idRole);
    render();
  }

  function render() {
    const add =
      can('POST', '/roles') &&
      button(S.newRole, { icon: 'plus', kind: 'primary', onClick: openCreate, testid: 'new-role' });
    replace(header, pageHeader(S.roles, S.rolesSubtitle, [add]));
    if (!state.loaded) return replace(body, pendingState(state.failed));
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
      actionsColumn(!can('PUT', '/roles/:idRole') && !can('DELETE', '/roles/:idRole'), (r) => [
        can('PUT', '/roles/:idRole') && editButton(() => openEdit(r)),
        can('DELETE', '/roles/:idRole') && deleteButton(() => remove(r)),
      ]),
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
        upsert(await dialogCall('POST', '/roles', 'roles:create', body));
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
        upsert(await dialogCall('PUT', `/roles/${role.idRole}`, 'roles:update', body));
      },
    });
  }

  function remove(role) {
    return deleteDialog({
      title: S.deleteRoleTitle,
      message: S.deleteRoleConfirm(role.roleName),
      path: `/roles/${role.idRole}`,
      op: 'roles:delete',
      hints: { 409: S.roleInUseHint },
      onDeleted: () => drop(role.idRole),
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
      else if (operation === 'roles:delete' && data?.idRole) drop(data.idRole);
    },
  };
}
