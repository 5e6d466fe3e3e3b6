// Activity: the audit trail from /changes, newest first, growing live.
import { call } from '../api.js';
import { flash, formatDate, formatTime, h, replace, serialized } from '../dom.js';
import { S } from '../strings.js';
import { loadInto } from '../ui/records.js';
import { badge, emptyState, pageHeader, pendingState } from '../ui/table.js';

const WINDOW = 100;
const LATEST = Number.MAX_SAFE_INTEGER;

function subject(data) {
  if (!data || typeof data !== 'object') return null;
  return data.email || data.full_name || data.roleName || data.nameUri || data.nameItem || null;
}

function kind(operation) {
  const verb = operation.split(':')[1] || '';
  if (verb === 'delete' || verb === 'unassign') return 'danger';
  if (verb === 'create' || verb === 'register' || verb === 'assign') return 'success';
  return 'info';
}

export function activityView(root) {
  const state = { entries: [], loaded: false, failed: false };
  const body = h('div', { class: 'card-body' });
  replace(root, pageHeader(S.activity, S.activitySubtitle), h('section', { class: 'card' }, body));

  /** The newest entries; a small `change_retention` answers 410 for a wide window, so narrow it until it fits. */
  async function recent(quiet) {
    const head = await call('GET', '/changes', { query: { since: LATEST, limit: 1 }, quiet: true });
    const latest = head.meta.latestSeq || 0;
    for (let width = WINDOW; ; width = Math.floor(width / 2)) {
      try {
        const since = Math.max(0, latest - width);
        return (
          await call('GET', '/changes', {
            query: { since, limit: WINDOW },
            op: 'changes:fetchAll',
            quiet,
            alertErrors: false,
          })
        ).data;
      } catch (error) {
        if (error.status !== 410 || width === 0) throw error;
      }
    }
  }

  const reload = serialized(async (quiet = false) => {
    await loadInto(state, async () => {
      const data = await recent(quiet);
      const seen = new Set(data.map((c) => c.seq));
      const merged = [...state.entries.filter((c) => !seen.has(c.seq)), ...data];
      return { entries: merged.sort((a, b) => b.seq - a.seq).slice(0, WINDOW) };
    });
    render();
  });

  function render() {
    if (!state.loaded) return replace(body, pendingState(state.failed));
    if (!state.entries.length)
      return replace(body, emptyState({ icon: 'activity', title: S.noActivity, hint: S.noActivityHint }));
    replace(
      body,
      h(
        'ol',
        { class: 'timeline' },
        state.entries.map((c) =>
          h(
            'li',
            { class: 'timeline-item', dataset: { key: c.seq } },
            h('span', { class: `timeline-dot dot-${kind(c.operation)}` }),
            h(
              'div',
              { class: 'timeline-body' },
              h(
                'div',
                { class: 'timeline-line' },
                h('strong', { text: c.message }),
                subject(c.data) ? h('span', { class: 'muted', text: subject(c.data) }) : null,
              ),
              h(
                'div',
                { class: 'timeline-meta' },
                badge(c.operation, 'neutral'),
                h('time', { datetime: c.at, title: formatDate(c.at), text: formatTime(c.at) }),
                c.actorId ? h('span', { class: 'muted', text: S.byUser(c.actorId) }) : null,
                h('span', { class: 'muted', text: `#${c.seq}` }),
              ),
            ),
          ),
        ),
      ),
    );
  }

  render();
  reload();

  return {
    onSession: () => {},
    onReset: () => reload(true),
    onChange(change) {
      if (!state.loaded || state.entries.some((c) => c.seq === change.seq)) return;
      state.entries = [change, ...state.entries].sort((a, b) => b.seq - a.seq).slice(0, WINDOW);
      render();
      flash(body, [change.seq]);
    },
  };
}
