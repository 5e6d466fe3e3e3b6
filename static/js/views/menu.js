// SPDX-License-Identifier: MIT
// Menu: sidebar items CRUD and which roles see each one — live.
import { ApiError, call } from '../api.js';
import { flash, h, icon, MENU_ICONS, replace, serialized } from '../dom.js';
import { can } from '../session.js';
import { S } from '../strings.js';
import { deleteDialog, dialogCall, formDialog, infoDialog } from '../ui/dialog.js';
import { loadInto, putRow } from '../ui/records.js';
import {
  actionsColumn,
  badge,
  button,
  dataTable,
  deleteButton,
  editButton,
  emptyState,
  forbiddenState,
  pageHeader,
  pendingState,
  rowButton,
} from '../ui/table.js';

export function menuView(root) {
  const state = { items: [], roles: [], loaded: false, failed: false };
  const header = h('div');
  const body = h('div', { class: 'card-body' });
  let openChecklist = null; // re-rendered live while the assignment dialog is open
  replace(root, header, h('section', { class: 'card' }, body));

  const reload = serialized(async (highlight = [], quiet = false) => {
    if (!can('GET', '/sidebar/items')) return render();
    await loadInto(state, async () => {
      const [items, roles] = await Promise.all([
        call('GET', '/sidebar/items', { op: 'sidebar:fetchAll', quiet }),
        call('GET', '/roles', { op: 'roles:fetchAll', quiet: true }),
      ]);
      return { items: items.data, roles: roles.data };
    });
    render();
    flash(body, highlight);
  });

  function render() {
    const add =
      can('POST', '/sidebar') &&
      button(S.newItem, { icon: 'plus', kind: 'primary', onClick: openCreate, testid: 'new-item' });
    replace(header, pageHeader(S.menu, S.menuSubtitle, [add]));
    openChecklist?.();
    if (!can('GET', '/sidebar/items')) return replace(body, forbiddenState());
    if (!state.loaded) return replace(body, pendingState(state.failed));
    const roleName = new Map(state.roles.map((r) => [r.idRole, r.roleName]));
    const mayAssign = can('POST', '/sidebar/:idItem/role/:idRole') || can('DELETE', '/sidebar/:idItem/role/:idRole');
    const columns = [
      {
        label: S.nameItem,
        className: 'col-main',
        render: (i) =>
          h(
            'div',
            { class: 'identity' },
            h('span', { class: 'item-icon' }, icon(i.iconItem || 'dot')),
            h('strong', { text: i.nameItem }),
          ),
      },
      {
        label: S.route,
        render: (i) => (i.route ? h('code', { text: i.route }) : h('span', { class: 'muted', text: S.none })),
      },
      {
        label: S.itemRoles,
        render: (i) =>
          i.roles.length
            ? h(
                'div',
                { class: 'chips' },
                i.roles.map((id) => badge(roleName.get(id) || `#${id}`, 'role')),
              )
            : h('span', { class: 'muted', text: S.noRolesAssigned }),
      },
      actionsColumn(!mayAssign && !can('PUT', '/sidebar/:idItem') && !can('DELETE', '/sidebar/:idItem'), (i) => [
        mayAssign && rowButton('link', S.assignRoles, 'roles', () => openAssign(i.idItem)),
        can('PUT', '/sidebar/:idItem') && editButton(() => openEdit(i)),
        can('DELETE', '/sidebar/:idItem') && deleteButton(() => remove(i)),
      ]),
    ];
    replace(
      body,
      dataTable({
        columns,
        rows: state.items,
        key: (i) => i.idItem,
        empty: { icon: 'menu', title: S.noItems, hint: S.noItemsHint },
        inlineActions: true,
      }),
    );
  }

  function itemFields(current) {
    const icons = current && !MENU_ICONS.includes(current) ? [...MENU_ICONS, current] : MENU_ICONS;
    return [
      { name: 'nameItem', label: S.nameItem, required: true, minlength: 1, maxlength: 100 },
      {
        name: 'iconItem',
        label: S.iconItem,
        type: 'select',
        options: [{ value: '', label: S.none }, ...icons.map((n) => ({ value: n, label: n }))],
      },
      { name: 'route', label: S.route, maxlength: 100, placeholder: S.routePlaceholder },
    ];
  }

  const bodyOf = (v) => ({ nameItem: v.nameItem, iconItem: v.iconItem || null, route: v.route.trim() || null });

  function openCreate() {
    return formDialog({
      title: S.newItem,
      submitLabel: S.create,
      fields: itemFields(null),
      onSubmit: async (v) => {
        upsert(await dialogCall('POST', '/sidebar', 'sidebar:create', bodyOf(v)));
      },
    });
  }

  function openEdit(item) {
    return formDialog({
      title: S.editItem,
      fields: itemFields(item.iconItem),
      initial: item,
      onSubmit: async (v) => {
        upsert(await dialogCall('PUT', `/sidebar/${item.idItem}`, 'sidebar:update', bodyOf(v)));
      },
    });
  }

  function remove(item) {
    return deleteDialog({
      title: S.deleteItemTitle,
      message: S.deleteItemConfirm(item.nameItem),
      path: `/sidebar/${item.idItem}`,
      op: 'sidebar:delete',
      onDeleted: () => drop(item.idItem),
    });
  }

  async function openAssign(idItem) {
    const list = h('div', { class: 'checklist' });
    const draw = () => {
      const item = state.items.find((i) => i.idItem === idItem);
      if (!item) return replace(list, emptyState({ title: S.noItems }));
      replace(
        list,
        state.roles.map((role) => {
          const checked = item.roles.includes(role.idRole);
          const allowed = checked
            ? can('DELETE', '/sidebar/:idItem/role/:idRole')
            : can('POST', '/sidebar/:idItem/role/:idRole');
          const box = h('input', { type: 'checkbox', checked, disabled: !allowed });
          box.addEventListener('change', () => assign(item, role, box));
          return h(
            'label',
            { class: 'check-item', dataset: { key: `r-${role.idRole}` } },
            box,
            h(
              'span',
              { class: 'check-text' },
              h('strong', { text: role.roleName }),
              role.description ? h('span', { class: 'muted', text: role.description }) : null,
            ),
          );
        }),
      );
    };
    openChecklist = draw;
    draw();
    const item = state.items.find((i) => i.idItem === idItem);
    await infoDialog({
      title: S.assignRolesTitle(item?.nameItem || ''),
      body: h('div', {}, h('p', { class: 'field-hint', text: S.assignRolesHint }), list),
    });
    openChecklist = null;
  }

  async function assign(item, role, box) {
    const path = `/sidebar/${item.idItem}/role/${role.idRole}`;
    box.disabled = true;
    try {
      if (box.checked) await call('POST', path, { op: 'sidebar:assign' });
      else await call('DELETE', path, { op: 'sidebar:unassign' });
      link({ idItem: item.idItem, idRole: role.idRole }, box.checked);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      render();
    }
  }

  function link({ idItem, idRole }, assigned) {
    const item = state.items.find((i) => i.idItem === idItem);
    if (!item) return;
    item.roles = item.roles.filter((id) => id !== idRole);
    if (assigned) item.roles.push(idRole);
    render();
    flash(body, [idItem]);
  }

  function upsert(item) {
    putRow(state.items, 'idItem', item);
    render();
    flash(body, [item.idItem]);
  }

  function drop(idItem) {
    state.items = state.items.filter((i) => i.idItem !== idItem);
    render();
  }

  render();
  reload();

  return {
    onSession: () => (state.loaded ? render() : reload()),
    onReset: () => reload([], true),
    onChange(change, own) {
      if (own) return;
      const { operation, data } = change;
      if ((operation === 'sidebar:create' || operation === 'sidebar:update') && data?.idItem) upsert(data);
      else if (operation === 'sidebar:delete' && data?.idItem) drop(data.idItem);
      else if (operation === 'sidebar:assign' && data?.idItem) link(data, true);
      else if (operation === 'sidebar:unassign' && data?.idItem) link(data, false);
      else if (operation.startsWith('roles:')) reload([], true);
    },
  };
}
