// SPDX-License-Identifier: MIT
// How an activity entry reads: who acted, on what (names, not ids), and which fields an update changed.
import { call } from '../api.js';
import { can, session } from '../session.js';
import { S } from '../strings.js';

const USER_PAGE = 200;
const USER_PAGES = 5; // a small team's directory; past it, actors read "usuario #N"

// The fields an update may change, per resource, as the diff names them (updatedAt and ids are left out).
const FIELDS = {
  users: {
    full_name: S.fullName,
    email: S.email,
    roleName: S.role,
    isActive: S.state,
    mustChangePassword: S.mustChange,
  },
  roles: { roleName: S.roleName, description: S.description },
  sidebar: { nameItem: S.nameItem, iconItem: S.iconItem, route: S.route },
  permissions: { nameUri: S.permission, description: S.description },
};

function shown(field, value) {
  if (value === null || value === undefined || value === '') return S.none;
  if (field === 'isActive') return value ? S.active : S.inactive;
  if (field === 'mustChangePassword') return value ? S.yes : S.no;
  return String(value);
}

/** The resource a change belongs to, as the change feed's `resource` filter names it. */
export function resourceOf(operation) {
  return operation === 'auth:register' ? 'users' : operation.split(':')[0];
}

/** [{field, label, from, to}] for an update whose before/after the viewer may read; [] otherwise. */
export function changedFields(change) {
  const { before, after } = change;
  if (!before || !after) return [];
  const fields = FIELDS[resourceOf(change.operation)] || {};
  return Object.entries(fields)
    .filter(([field]) => (field in before || field in after) && before[field] !== after[field])
    .map(([field, label]) => ({ field, label, from: shown(field, before[field]), to: shown(field, after[field]) }));
}

/**
 * Names for the ids changes carry: today's users, roles, permissions and menu items (as far as the viewer may
 * read them), completed by what the changes themselves say, so that deleted records keep their names.
 */
export function directory() {
  const users = new Map();
  const roles = new Map();
  const permissions = new Map();
  const items = new Map();
  const keep = (map, id, value) => {
    if (id !== undefined && id !== null && value && !map.has(id)) map.set(id, value);
  };

  async function loadUsers() {
    for (let page = 1; page <= USER_PAGES; page += 1) {
      const { data, meta } = await call('GET', '/users', { query: { page, limit: USER_PAGE }, quiet: true });
      for (const u of data) users.set(u.idUser, { full_name: u.full_name, email: u.email });
      if (page * USER_PAGE >= meta.total) return;
    }
  }

  return {
    /** Today's names; a list the viewer may not read is simply left out. */
    async load() {
      users.clear();
      roles.clear();
      permissions.clear();
      items.clear();
      const loads = [
        call('GET', '/roles', { quiet: true }).then(({ data }) =>
          data.forEach((r) => roles.set(r.idRole, r.roleName)),
        ),
        call('GET', '/permission', { quiet: true }).then(({ data }) =>
          data.forEach((p) => permissions.set(p.idPermission, p.nameUri)),
        ),
      ];
      if (can('GET', '/users')) loads.push(loadUsers());
      if (can('GET', '/sidebar/items'))
        loads.push(
          call('GET', '/sidebar/items', { quiet: true }).then(({ data }) =>
            data.forEach((i) => items.set(i.idItem, i.nameItem)),
          ),
        );
      await Promise.allSettled(loads);
      const me = session.user;
      if (me) users.set(me.idUser, { full_name: me.full_name, email: me.email });
    },

    /** Names a change reveals (a deleted role's, a new user's), unless today's lists already name that record. */
    learn(change) {
      for (const record of [change.data, change.after, change.before]) {
        if (!record || typeof record !== 'object') continue;
        if (record.email) keep(users, record.idUser, { full_name: record.full_name, email: record.email });
        keep(roles, record.idRole ?? record.roleId, record.roleName);
        keep(permissions, record.idPermission, record.nameUri);
        keep(items, record.idItem, record.nameItem);
      }
    },

    /** Every user the directory knows, by name: the actor filter's choices. */
    users() {
      return [...users.entries()]
        .map(([idUser, u]) => ({ idUser, ...u }))
        .sort((a, b) => (a.full_name || '').localeCompare(b.full_name || '', 'es'));
    },

    /** Who made the change: a user's name, or what a change without one is. */
    actor(change) {
      if (change.actorId === null || change.actorId === undefined)
        return change.operation === 'auth:register' ? S.publicRegistration : S.maintenance;
      return users.get(change.actorId)?.full_name || S.userNumber(change.actorId);
    },

    actorEmail(change) {
      return users.get(change.actorId)?.email || null;
    },

    user(id) {
      return users.get(id) || null;
    },

    /** What the change is about: {text, permission?, role?} (a permission is shown as METHOD /path). */
    target(change) {
      const records = [change.data, change.after, change.before].filter((r) => r && typeof r === 'object');
      const pick = (key) => records.map((r) => r[key]).find((v) => v !== undefined && v !== null);
      const roleName = (id) => roles.get(id) || S.roleNumber(id);
      const [resource, verb] = [resourceOf(change.operation), change.operation.split(':')[1]];
      if (resource === 'users') {
        const id = pick('idUser');
        const known = users.get(id);
        const email = pick('email') || known?.email;
        const name = pick('full_name') || known?.full_name;
        return { text: email ? `${name ? `${name} · ` : ''}${email}` : S.userNumber(id) };
      }
      if (resource === 'roles') return { text: pick('roleName') || roleName(pick('idRole')) };
      if (resource === 'permissions') {
        const id = pick('permissionId') ?? pick('idPermission');
        const permission = pick('nameUri') || permissions.get(id) || S.permissionNumber(id);
        const link = verb === 'assign' || verb === 'unassign';
        return { text: '', permission, role: link ? roleName(pick('roleId')) : null };
      }
      if (resource === 'sidebar') {
        const item = pick('nameItem') || items.get(pick('idItem')) || S.itemNumber(pick('idItem'));
        const link = verb === 'assign' || verb === 'unassign';
        return { text: item, role: link ? pick('roleName') || roleName(pick('idRole')) : null };
      }
      return { text: '' };
    },
  };
}
