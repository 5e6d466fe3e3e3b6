// Permissions: the catalog (create/delete) and a per-role checklist that grants and revokes — live.
import { ApiError, call } from '../api.js';
import { flash, h, icon, replace, serialized, spinnerBlock } from '../dom.js';
import { can } from '../session.js';
import { S } from '../strings.js';
import { deleteDialog, dialogCall, formDialog } from '../ui/dialog.js';
import { loadInto, putRow } from '../ui/records.js';
import { actionsColumn, button, dataTable, deleteButton, emptyState, pageHeader, pendingState } from '../ui/table.js';

export function permissionName(nameUri) {
  const match = /^(GET|POST|PUT|PATCH|DELETE)\s+(.*)$/i.exec(nameUri || '');
  if (!match) return h('code', { class: 'perm', text: nameUri });
  const method = match[1].toUpperCase();
  // Break long paths only after a slash, never mid-word.
  const path = match[2].split('/').flatMap((part, i) => (i ? [h('wbr'), `/${part}`] : [part]));
  return h(
    'span',
    { class: 'perm' },
    h('span', { class: `method method-${method.toLowerCase()}`, text: method }),
    h('code', {}, path),
  );
}

export function permissionsView(root) {
  const state = { catalog: [], roles: [], roleId: null, granted: new Set(), loaded: false, failed: false, filter: '' };
  const header = h('div');
  const catalogBody = h('div', { class: 'card-body' });
  const roleSelect = h('select', { class: 'role-select', 'aria-label': S.chooseRole });
  const filter = h('input', {
    type: 'search',
    class: 'search-input',
    placeholder: S.filterPermissions,
    'aria-label': S.filterPermissions,
  });
  const count = h('span', { class: 'muted' });
  const checklist = h('div', { class: 'checklist' });
  roleSelect.addEventListener('change', () => {
    state.roleId = Number(roleSelect.value);
    loadGranted();
  });
  filter.addEventListener('input', () => {
    state.filter = filter.value.trim().toLowerCase();
    renderChecklist();
  });
  const byRoleCard = h(
    'section',
    { class: 'card' },
    h('div', { class: 'toolbar' }, roleSelect, h('label', { class: 'search' }, icon('search'), filter)),
    h(
      'div',
      { class: 'card-body' },
      h('p', { class: 'checklist-summary' }, count, h('span', { class: 'muted', text: S.byRoleHint })),
      checklist,
    ),
  );
  const catalogCard = h('section', { class: 'card' }, catalogBody);
  const tabs = [
    { id: 'byRole', label: S.byRole, panel: byRoleCard },
    { id: 'catalog', label: S.catalog, panel: catalogCard },
  ];
  const tabBar = h(
    'div',
    { class: 'tabs', role: 'tablist' },
    tabs.map((tab) =>
      h('button', {
        type: 'button',
        role: 'tab',
        class: 'tab',
        dataset: { tab: tab.id },
        text: tab.label,
        on: { click: () => select(tab.id) },
      }),
    ),
  );
  function select(id) {
    for (const tab of tabs) {
      const active = tab.id === id;
      tab.panel.hidden = !active;
      const button = tabBar.querySelector(`[data-tab="${tab.id}"]`);
      button.classList.toggle('active', active);
      button.setAttribute('aria-selected', String(active));
    }
  }
  select('byRole');
  replace(root, header, tabBar, byRoleCard, catalogCard);

  const reload = serialized(async (quiet = false) => {
    await loadInto(state, async () => {
      const [catalog, roles] = await Promise.all([
        call('GET', '/permission', { op: 'permissions:fetchAll', quiet }),
        call('GET', '/roles', { op: 'roles:fetchAll', quiet: true }),
      ]);
      const kept = roles.data.some((r) => r.idRole === state.roleId);
      return {
        catalog: catalog.data,
        roles: roles.data,
        roleId: kept ? state.roleId : (roles.data[0]?.idRole ?? null),
      };
    });
    render();
    await loadGranted(true);
  });

  const loadGranted = serialized(async (quiet = false) => {
    if (state.roleId === null) {
      state.granted = new Set();
      return renderChecklist();
    }
    const roleId = state.roleId;
    try {
      const { data } = await call('GET', '/permission/getByRoleId', {
        query: { roleId },
        op: 'permissions:fetchByRole',
        quiet,
      });
      if (roleId === state.roleId) state.granted = new Set(data.map((p) => p.idPermission));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
    renderChecklist();
  });

  function render() {
    const add =
      can('POST', '/permission/register') &&
      button(S.newPermission, { icon: 'plus', kind: 'primary', onClick: openCreate, testid: 'new-permission' });
    replace(header, pageHeader(S.permissions, S.permissionsSubtitle, [add]));
    renderCatalog();
    replace(
      roleSelect,
      state.roles.map((r) =>
        h('option', { value: String(r.idRole), text: r.roleName, selected: r.idRole === state.roleId }),
      ),
    );
    renderChecklist();
  }

  function renderCatalog() {
    if (!state.loaded) return replace(catalogBody, pendingState(state.failed));
    const columns = [
      { label: S.permission, className: 'col-main', render: (p) => permissionName(p.nameUri) },
      {
        label: S.description,
        className: 'col-note',
        render: (p) => h('span', { class: 'muted', text: p.description || S.none }),
      },
      actionsColumn(!can('DELETE', '/permission/:id'), (p) => [
        can('DELETE', '/permission/:id') && deleteButton(() => remove(p)),
      ]),
    ];
    replace(
      catalogBody,
      dataTable({
        columns,
        rows: state.catalog,
        key: (p) => p.idPermission,
        empty: { icon: 'key', title: S.noPermissions, hint: S.noPermissionsHint },
        inlineActions: true,
      }),
    );
  }

  function renderChecklist() {
    const visible = state.catalog.filter(
      (p) => !state.filter || `${p.nameUri} ${p.description || ''}`.toLowerCase().includes(state.filter),
    );
    const granted = state.catalog.filter((p) => state.granted.has(p.idPermission)).length;
    count.textContent = state.roleId === null ? '' : S.grantedCount(granted, state.catalog.length);
    if (!state.loaded) return replace(checklist, spinnerBlock(S.loading));
    if (!visible.length) return replace(checklist, emptyState({ icon: 'key', title: S.noMatches }));
    replace(
      checklist,
      visible.map((p) => {
        const checked = state.granted.has(p.idPermission);
        const box = h('input', {
          type: 'checkbox',
          checked,
          disabled: !(checked ? can('DELETE', '/permission/unassign') : can('POST', '/permission/assign')),
        });
        box.addEventListener('change', () => toggle(p, box));
        return h(
          'label',
          { class: 'check-item', dataset: { key: `p-${p.idPermission}` } },
          box,
          h(
            'span',
            { class: 'check-text' },
            permissionName(p.nameUri),
            p.description ? h('span', { class: 'muted', text: p.description }) : null,
          ),
        );
      }),
    );
  }

  async function toggle(permission, box) {
    const grant = box.checked;
    const body = { roleId: state.roleId, permissionId: permission.idPermission };
    box.disabled = true;
    try {
      if (grant) await call('POST', '/permission/assign', { body, op: 'permissions:assign' });
      else await call('DELETE', '/permission/unassign', { body, op: 'permissions:unassign' });
      if (grant) state.granted.add(permission.idPermission);
      else state.granted.delete(permission.idPermission);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
    renderChecklist();
  }

  function openCreate() {
    return formDialog({
      title: S.newPermission,
      submitLabel: S.create,
      fields: [
        {
          name: 'nameUri',
          label: S.nameUri,
          required: true,
          minlength: 2,
          maxlength: 100,
          placeholder: S.nameUriPlaceholder,
        },
        { name: 'description', label: S.description, type: 'textarea', maxlength: 255 },
      ],
      onSubmit: async (v) => {
        const body = { nameUri: v.nameUri, description: v.description.trim() || null };
        upsert(await dialogCall('POST', '/permission/register', 'permissions:create', body));
      },
    });
  }

  function remove(permission) {
    return deleteDialog({
      title: S.deletePermissionTitle,
      message: S.deletePermissionConfirm(permission.nameUri),
      path: `/permission/${permission.idPermission}`,
      op: 'permissions:delete',
      onDeleted: () => drop(permission.idPermission),
    });
  }

  function upsert(permission) {
    putRow(state.catalog, 'idPermission', permission);
    render();
    flash(catalogBody, [permission.idPermission]);
  }

  function drop(idPermission) {
    state.catalog = state.catalog.filter((p) => p.idPermission !== idPermission);
    state.granted.delete(idPermission);
    render();
  }

  render();
  reload();

  return {
    onSession: render,
    onReset: () => reload(true),
    onChange(change, own) {
      if (own) return;
      const { operation, data } = change;
      if (operation === 'permissions:create' && data?.idPermission) upsert(data);
      else if (operation === 'permissions:delete' && data?.idPermission) drop(data.idPermission);
      else if (
        (operation === 'permissions:assign' || operation === 'permissions:unassign') &&
        data?.roleId === state.roleId
      ) {
        if (operation === 'permissions:assign') state.granted.add(data.permissionId);
        else state.granted.delete(data.permissionId);
        renderChecklist();
        flash(checklist, [`p-${data.permissionId}`]);
      } else if (operation.startsWith('roles:')) reload(true);
    },
  };
}
