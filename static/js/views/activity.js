// SPDX-License-Identifier: MIT
// Activity: who changed what and when (the change feed, filtered, growing live) and who signed in (the login audit).
import { ApiError, call } from '../api.js';
import { flash, formatDate, h, replace, serialized } from '../dom.js';
import { can } from '../session.js';
import { S } from '../strings.js';
import { loadInto } from '../ui/records.js';
import { badge, button, emptyState, pageHeader, pendingState } from '../ui/table.js';
import { changedFields, directory } from './audit.js';
import { permissionName } from './permissions.js';

const PAGE = 50;
const RESOURCES = ['users', 'roles', 'permissions', 'sidebar'];
const OUTCOMES = ['success', 'failure', 'inactive'];
const NO_ACTOR = '0'; // the change feed's actorId for changes no user made (maintenance, public registration)
const EMPTY_FILTERS = { resource: '', actor: '', outcome: '', from: '', to: '' };

function kind(operation) {
  const verb = operation.split(':')[1] || '';
  if (verb === 'delete' || verb === 'unassign') return 'danger';
  if (verb === 'create' || verb === 'register' || verb === 'assign') return 'success';
  return 'info';
}

const OUTCOME_KIND = { success: 'success', failure: 'danger', inactive: 'warning' };

/** A local calendar day (an <input type=date> value), plus `days`, as the moment it starts. */
function dayStart(value, days = 0) {
  if (!value) return undefined;
  const [year, month, day] = value.split('-').map(Number);
  return new Date(year, month - 1, day + days).toISOString();
}

function choice(name, label, control) {
  control.name = name;
  return h('label', { class: 'filter' }, h('span', { class: 'filter-label', text: label }), control);
}

function options(select, pairs, value) {
  replace(
    select,
    pairs.map(([v, text]) => h('option', { value: v, text, selected: v === value })),
  );
  select.value = pairs.some(([v]) => v === value) ? value : '';
  return select.value;
}

export function activityView(root) {
  const names = directory();
  const state = {
    tab: 'changes',
    filters: { ...EMPTY_FILTERS },
    changes: { entries: [], more: false, cursor: 0, loaded: false, failed: false, generation: 0 },
    logins: { entries: [], next: null, loaded: false, failed: false },
  };
  const tabBar = h('div', { class: 'tabs', role: 'tablist' });
  const body = h('div', { class: 'card-body' });
  const footer = h('div', { class: 'card-foot' });
  const controls = {
    resource: h('select'),
    actor: h('select'),
    outcome: h('select'),
    from: h('input', { type: 'date' }),
    to: h('input', { type: 'date' }),
  };
  const filterBar = h(
    'div',
    { class: 'toolbar filters' },
    choice('resource', S.resource, controls.resource),
    choice('actor', S.actor, controls.actor),
    choice('outcome', S.outcome, controls.outcome),
    choice('from', S.dateFrom, controls.from),
    choice('to', S.dateTo, controls.to),
    h(
      'div',
      { class: 'filter-actions' },
      button(S.clearFilters, { kind: 'ghost', small: true, onClick: clearFilters, testid: 'clear-filters' }),
      button('', { icon: 'reset', title: S.refresh, small: true, onClick: () => reload(), testid: 'refresh' }),
    ),
  );
  for (const [name, control] of Object.entries(controls)) {
    control.addEventListener('change', () => {
      state.filters[name] = control.value;
      reload();
    });
  }
  replace(
    root,
    pageHeader(S.activity, S.activitySubtitle),
    tabBar,
    h('section', { class: 'card' }, filterBar, body, footer),
  );

  const filtered = () => {
    const { resource, actor, outcome, from, to } = state.filters;
    return Boolean((state.tab === 'changes' ? resource : outcome) || actor || from || to);
  };

  function changeQuery(extra = {}) {
    const { resource, actor, from, to } = state.filters;
    return { limit: PAGE, resource, actorId: actor, dateFrom: dayStart(from), dateTo: dayStart(to, 1), ...extra };
  }

  function loginQuery(extra = {}) {
    const { actor, outcome, from, to } = state.filters;
    return { limit: PAGE, userId: actor, outcome, dateFrom: dayStart(from), dateTo: dayStart(to, 1), ...extra };
  }

  /** A page of changes, newest first, with the names they reveal learned. */
  async function changesPage(query, quiet) {
    const { data, meta } = await call('GET', '/changes', { query, op: 'changes:fetchAll', quiet });
    const entries = data.slice().reverse();
    entries.forEach(names.learn);
    return { entries, meta, full: data.length === query.limit };
  }

  const loadChanges = serialized(async (quiet = false) => {
    state.changes.generation += 1; // what newer() fetched for the previous filters no longer belongs
    await loadInto(state.changes, async () => {
      const { entries, meta, full } = await changesPage(changeQuery(), quiet);
      return { entries, more: full, cursor: Math.max(meta.latestSeq || 0, entries[0]?.seq || 0) };
    });
    render();
  });

  const loadLogins = serialized(async (quiet = false) => {
    await loadInto(state.logins, async () => {
      const { data, meta } = await call('GET', '/users/logins', { query: loginQuery(), op: 'logins:fetchAll', quiet });
      return { entries: data, next: meta.next };
    });
    render();
  });

  /** Changes committed since the newest one shown that match the filters (with their before/after), on top. */
  const newer = serialized(async () => {
    const current = state.changes;
    if (!current.loaded) return;
    const { generation } = current;
    const added = [];
    try {
      for (let full = true; full; ) {
        const page = await changesPage(changeQuery({ since: current.cursor }), true);
        if (current.generation !== generation) return;
        const seen = new Set(current.entries.map((c) => c.seq));
        added.push(...page.entries.filter((c) => !seen.has(c.seq)));
        current.cursor = Math.max(current.cursor, page.meta.latestSeq || 0, page.entries[0]?.seq || 0);
        current.entries = [...page.entries.filter((c) => !seen.has(c.seq)), ...current.entries];
        full = page.full;
      }
    } catch (error) {
      if (error.status === 410) return loadChanges(true);
      if (!(error instanceof ApiError)) throw error;
    }
    if (!added.length || state.tab !== 'changes') return;
    renderList();
    flash(body, added.map((c) => c.seq));
  });

  async function more() {
    try {
      if (state.tab === 'changes') {
        const before = state.changes.entries.at(-1)?.seq;
        const { entries, full } = await changesPage(changeQuery({ before }), false);
        state.changes.entries.push(...entries);
        state.changes.more = full;
      } else {
        const query = loginQuery({ before: state.logins.next });
        const { data, meta } = await call('GET', '/users/logins', { query, op: 'logins:fetchAll' });
        state.logins.entries.push(...data);
        state.logins.next = meta.next;
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
    renderList();
  }

  function reload(quiet = false) {
    return state.tab === 'changes' ? loadChanges(quiet) : loadLogins(quiet);
  }

  function clearFilters() {
    state.filters = { ...EMPTY_FILTERS };
    reload();
  }

  function select(tab) {
    if (state.tab === tab) return;
    state.tab = tab;
    if (tab === 'logins' && state.filters.actor === NO_ACTOR) state.filters.actor = '';
    render();
    reload();
  }

  function renderTabs() {
    const tabs = can('GET', '/users/logins') ? ['changes', 'logins'] : [];
    if (!tabs.length && state.tab === 'logins') select('changes');
    replace(
      tabBar,
      tabs.map((tab) =>
        h('button', {
          type: 'button',
          role: 'tab',
          class: `tab${state.tab === tab ? ' active' : ''}`,
          'aria-selected': String(state.tab === tab),
          dataset: { tab },
          text: tab === 'changes' ? S.changesTab : S.loginsTab,
          on: { click: () => select(tab) },
        }),
      ),
    );
    tabBar.hidden = !tabs.length;
  }

  function renderFilters() {
    const changes = state.tab === 'changes';
    const f = state.filters;
    f.resource = options(
      controls.resource,
      [['', S.anyResource], ...RESOURCES.map((r) => [r, S.resources[r]])],
      f.resource,
    );
    const people = names.users().map((u) => [String(u.idUser), u.full_name || u.email]);
    f.actor = options(
      controls.actor,
      changes ? [['', S.anyActor], [NO_ACTOR, S.noActor], ...people] : [['', S.anyAccount], ...people],
      f.actor,
    );
    f.outcome = options(
      controls.outcome,
      [['', S.anyOutcome], ...OUTCOMES.map((o) => [o, S.outcomeFilters[o]])],
      f.outcome,
    );
    controls.from.value = f.from;
    controls.to.value = f.to;
    controls.resource.parentElement.hidden = !changes;
    controls.outcome.parentElement.hidden = changes;
    controls.actor.previousElementSibling.textContent = changes ? S.actor : S.accountFilter;
  }

  function changeItem(c) {
    const target = names.target(c);
    const diff = changedFields(c);
    const email = names.actorEmail(c);
    return h(
      'li',
      { class: 'timeline-item', dataset: { key: c.seq, operation: c.operation } },
      h('span', { class: `timeline-dot dot-${kind(c.operation)}` }),
      h(
        'div',
        { class: 'timeline-body' },
        h(
          'div',
          { class: 'timeline-line' },
          h('strong', { text: c.message }),
          target.text ? h('span', { class: 'activity-target', text: target.text }) : null,
          target.permission ? permissionName(target.permission) : null,
          target.role ? h('span', { class: 'muted', text: S.toRole(target.role) }) : null,
        ),
        diff.length
          ? h(
              'ul',
              { class: 'diff' },
              diff.map((d) =>
                h(
                  'li',
                  { dataset: { field: d.field } },
                  h('span', { class: 'diff-field', text: d.label }),
                  h('del', { text: d.from }),
                  h('span', { class: 'diff-arrow', 'aria-hidden': 'true', text: '→' }),
                  h('ins', { text: d.to }),
                ),
              ),
            )
          : null,
        h(
          'div',
          { class: 'timeline-meta' },
          h('span', { class: 'actor' }, `${S.by} `, h('strong', { text: names.actor(c), title: email })),
          h('time', { datetime: c.at, text: formatDate(c.at) }),
          badge(c.operation, 'neutral'),
          h('span', { class: 'muted', text: `#${c.seq}` }),
        ),
      ),
    );
  }

  function loginItem(entry) {
    const account = entry.email
      ? `${entry.full_name ? `${entry.full_name} · ` : ''}${entry.email}`
      : S.unknownAccount;
    return h(
      'li',
      { class: 'timeline-item', dataset: { key: `login-${entry.id}`, outcome: entry.outcome } },
      h('span', { class: `timeline-dot dot-${OUTCOME_KIND[entry.outcome] || 'info'}` }),
      h(
        'div',
        { class: 'timeline-body' },
        h(
          'div',
          { class: 'timeline-line' },
          h('strong', { text: S.outcomes[entry.outcome] || entry.outcome }),
          h('span', { class: entry.email ? 'activity-target' : 'muted', text: account }),
        ),
        h(
          'div',
          { class: 'timeline-meta' },
          h('span', { class: 'address', text: S.fromAddress(entry.address) }),
          h('time', { datetime: entry.at, text: formatDate(entry.at) }),
          h('span', { class: 'muted', text: `#${entry.id}` }),
        ),
      ),
    );
  }

  function render() {
    renderTabs();
    renderFilters();
    renderList();
  }

  /** The entries only: a live change or an older page leaves the filters (and an open dropdown) alone. */
  function renderList() {
    const changes = state.tab === 'changes';
    const current = changes ? state.changes : state.logins;
    replace(footer);
    if (!current.loaded) return replace(body, pendingState(current.failed));
    if (!current.entries.length) {
      const empty = filtered()
        ? { icon: 'search', title: S.noFilteredActivity, hint: S.noFilteredActivityHint }
        : changes
          ? { icon: 'activity', title: S.noActivity, hint: S.noActivityHint }
          : { icon: 'lock', title: S.noLogins };
      return replace(body, emptyState(empty));
    }
    replace(body, h('ol', { class: 'timeline' }, current.entries.map(changes ? changeItem : loginItem)));
    if (changes ? current.more : current.next)
      replace(footer, button(S.loadMore, { icon: 'inbox', onClick: more, testid: 'load-more' }));
  }

  render();
  names.load().then(() => loadChanges());

  return {
    onSession: () => {
      render();
      names.load().then(render);
    },
    onReset: () => reload(true),
    onChange: () => newer(),
  };
}
