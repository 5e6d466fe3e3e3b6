// SPDX-License-Identifier: MIT
// Permissions: per role, a read/create/update/delete grid over the catalog grouped by resource (each resource
// unfolds into its raw `METHOD /path` routes); and the catalog itself, grouped the same way (create/delete) — live.
import { ApiError, call } from '../api.js';
import { flash, h, icon, replace, serialized, spinnerBlock } from '../dom.js';
import { can } from '../session.js';
import { S } from '../strings.js';
import { toast } from '../toast.js';
import { deleteDialog, dialogCall, formDialog } from '../ui/dialog.js';
import { loadInto, putRow } from '../ui/records.js';
import { actionsColumn, button, dataTable, deleteButton, emptyState, pageHeader, pendingState } from '../ui/table.js';

const VERBS = { GET: 'read', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };
const COLUMNS = ['read', 'create', 'update', 'delete'];
const METHOD_PATH = /^(GET|POST|PUT|PATCH|DELETE)\s+(.*)$/i;

export function permissionName(nameUri) {
  const match = METHOD_PATH.exec(nameUri || '');
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

/** A permission's resource (the first path segment after /api/v1) and its grid column (from the method). */
function classify(nameUri) {
  const match = METHOD_PATH.exec(nameUri || '');
  if (!match) return { resource: '', verb: null };
  const segments = match[2].trim().replace(/^\/api\/v1(?=\/|$)/i, '').split('/').filter(Boolean);
  return { resource: (segments[0] || '').toLowerCase(), verb: VERBS[match[1].toUpperCase()] };
}

function resourceLabel(resource) {
  return resource ? S.resources[resource] || resource : S.otherResource;
}

/** Where a permission sits in its resource's list: read, create, update, delete, then by path. */
function rank(permission) {
  const { verb } = classify(permission.nameUri);
  return `${verb ? COLUMNS.indexOf(verb) : COLUMNS.length} ${permission.nameUri.replace(/^\S+\s+/, '')}`;
}

/** The catalog by resource, in catalog order: [{resource, label, permissions, cells: {read: […], …}}]. */
function groupsOf(catalog) {
  const groups = new Map();
  for (const permission of catalog) {
    const { resource, verb } = classify(permission.nameUri);
    if (!groups.has(resource)) {
      const cells = Object.fromEntries(COLUMNS.map((column) => [column, []]));
      groups.set(resource, { resource, label: resourceLabel(resource), permissions: [], cells });
    }
    const group = groups.get(resource);
    group.permissions.push(permission);
    if (verb) group.cells[verb].push(permission);
  }
  for (const group of groups.values()) group.permissions.sort((a, b) => rank(a).localeCompare(rank(b)));
  return [...groups.values()];
}

export function permissionsView(root) {
  const state = {
    catalog: [],
    roles: [],
    roleId: null,
    granted: new Set(),
    loaded: false,
    failed: false,
    filter: '',
    open: new Set(), // resources whose routes are unfolded
  };
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
  const grid = h('div', { class: 'grid-wrap' });
  roleSelect.addEventListener('change', () => {
    state.roleId = Number(roleSelect.value);
    loadGranted();
  });
  filter.addEventListener('input', () => {
    state.filter = filter.value.trim().toLowerCase();
    renderGrid();
  });
  const byRoleCard = h(
    'section',
    { class: 'card' },
    h('div', { class: 'toolbar' }, roleSelect, h('label', { class: 'search' }, icon('search'), filter)),
    h(
      'div',
      { class: 'card-body' },
      h('p', { class: 'checklist-summary' }, count, h('span', { class: 'muted', text: S.byRoleHint })),
      grid,
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
      return renderGrid();
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
    renderGrid();
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
    renderGrid();
  }

  function renderCatalog() {
    if (!state.loaded) return replace(catalogBody, pendingState(state.failed));
    if (!state.catalog.length)
      return replace(catalogBody, emptyState({ icon: 'key', title: S.noPermissions, hint: S.noPermissionsHint }));
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
      groupsOf(state.catalog).map((group) =>
        h(
          'div',
          { class: 'catalog-group', dataset: { resource: group.resource } },
          h(
            'h3',
            { class: 'group-title' },
            group.label,
            h('span', { class: 'muted', text: S.routesCount(group.permissions.length) }),
          ),
          dataTable({ columns, rows: group.permissions, key: (p) => p.idPermission, inlineActions: true }),
        ),
      ),
    );
  }

  const matches = (text) => !state.filter || text.toLowerCase().includes(state.filter);

  /** Groups (with the routes to list) that match the filter: a matching resource lists all its routes. */
  function visibleGroups() {
    return groupsOf(state.catalog)
      .map((group) => {
        const all = matches(`${group.label} ${group.resource}`);
        const routes = group.permissions.filter((p) => all || matches(`${p.nameUri} ${p.description || ''}`));
        return { ...group, routes };
      })
      .filter((group) => group.routes.length);
  }

  function renderGrid() {
    const granted = state.catalog.filter((p) => state.granted.has(p.idPermission)).length;
    count.textContent = state.roleId === null ? '' : S.grantedCount(granted, state.catalog.length);
    if (!state.loaded) return replace(grid, spinnerBlock(S.loading));
    const groups = visibleGroups();
    if (!groups.length) return replace(grid, emptyState({ icon: 'key', title: S.noMatches }));
    replace(
      grid,
      h(
        'table',
        { class: 'grid-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', text: S.resource }),
            COLUMNS.map((verb) => h('th', { scope: 'col', class: 'grid-cell', text: S.verbs[verb] })),
          ),
        ),
        groups.map((group) => {
          const open = state.open.has(group.resource) || Boolean(state.filter);
          return h('tbody', { class: 'grid-group', dataset: { resource: group.resource } }, [
            gridRow(group, open),
            h(
              'tr',
              { class: 'grid-detail', hidden: !open },
              h('td', { colspan: COLUMNS.length + 1 }, h('div', { class: 'checklist' }, group.routes.map(checkItem))),
            ),
          ]);
        }),
      ),
    );
  }

  function gridRow(group, open) {
    const unfold = h(
      'button',
      {
        type: 'button',
        class: 'grid-toggle',
        'aria-expanded': String(open),
        title: S.showRoutes(group.label),
        dataset: { action: 'expand' },
        on: {
          click: () => {
            if (state.open.has(group.resource)) state.open.delete(group.resource);
            else state.open.add(group.resource);
            renderGrid();
          },
        },
      },
      icon(open ? 'down' : 'right'),
      h('span', { class: 'grid-resource', text: group.label }),
      h('span', { class: 'muted', text: S.routesCount(group.permissions.length) }),
    );
    return h(
      'tr',
      { class: 'grid-row' },
      h('th', { scope: 'row' }, unfold),
      COLUMNS.map((verb) =>
        h('td', { class: 'grid-cell', dataset: { verb, label: S.verbs[verb] } }, cell(group, verb)),
      ),
    );
  }

  /** All the routes of one resource and verb: checked when the role holds all, mixed when some. */
  function cell(group, verb) {
    const permissions = group.cells[verb];
    if (!permissions.length) return h('span', { class: 'muted', title: S.noRoute, text: S.none });
    const held = permissions.filter((p) => state.granted.has(p.idPermission)).length;
    const all = held === permissions.length;
    const box = h('input', {
      type: 'checkbox',
      checked: all,
      'aria-label': S.cellLabel(S.verbs[verb], group.label),
      disabled: !(all ? can('DELETE', '/permission/unassign') : can('POST', '/permission/assign')),
    });
    box.indeterminate = held > 0 && !all;
    box.addEventListener('change', () => toggleCell(permissions, box));
    return h(
      'label',
      { class: 'grid-check', title: permissions.map((p) => p.nameUri).join('\n') },
      box,
      h('span', { class: 'grid-count', text: `${held}/${permissions.length}` }),
    );
  }

  function checkItem(p) {
    const checked = state.granted.has(p.idPermission);
    const box = h('input', {
      type: 'checkbox',
      checked,
      disabled: !(checked ? can('DELETE', '/permission/unassign') : can('POST', '/permission/assign')),
    });
    box.addEventListener('change', async () => {
      box.disabled = true;
      await setGranted(state.roleId, p, box.checked);
      renderGrid();
    });
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
  }

  /** Grant or revoke one permission of roleId; false when the server refused (its indicator said why). */
  async function setGranted(roleId, permission, grant, notify = true) {
    const body = { roleId, permissionId: permission.idPermission };
    try {
      if (grant) await call('POST', '/permission/assign', { body, op: 'permissions:assign', notify });
      else await call('DELETE', '/permission/unassign', { body, op: 'permissions:unassign', notify });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return false;
    }
    if (roleId === state.roleId) {
      if (grant) state.granted.add(permission.idPermission);
      else state.granted.delete(permission.idPermission);
    }
    return true;
  }

  /** A grid cell: grant every route of it the role lacks, or, when it holds them all, revoke them all. */
  async function toggleCell(permissions, box) {
    const roleId = state.roleId;
    const grant = !permissions.every((p) => state.granted.has(p.idPermission));
    const role = state.roles.find((r) => r.idRole === roleId)?.roleName || '';
    box.disabled = true;
    let done = 0;
    for (const permission of permissions.filter((p) => state.granted.has(p.idPermission) !== grant)) {
      if (!(await setGranted(roleId, permission, grant, false))) break;
      done += 1;
    }
    if (done) toast('success', grant ? S.cellGranted(done, role) : S.cellRevoked(done, role));
    renderGrid();
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
        renderGrid();
        flash(grid, [`p-${data.permissionId}`]);
      } else if (operation.startsWith('roles:')) reload(true);
    },
  };
}
