// SPDX-License-Identifier: MIT
// Tables with a mobile card layout (each cell carries its column label), row actions, and empty states.
import { h, icon, spinnerBlock } from '../dom.js';
import { S } from '../strings.js';

/** columns: [{label, render(row) → node|text, className, hidden}]; key(row) marks rows for live highlights. */
export function dataTable({ columns: all, rows, key, empty, rowClass, inlineActions = false }) {
  if (!rows.length) return emptyState(empty);
  const columns = all.filter((c) => !c.hidden);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: inlineActions ? 'table table-inline-actions' : 'table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { class: c.className, scope: 'col', text: c.label })),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            { dataset: { key: key(row) }, class: rowClass?.(row) },
            columns.map((c) => h('td', { class: c.className, dataset: { label: c.label } }, c.render(row))),
          ),
        ),
      ),
    ),
  );
}

export function emptyState({ icon: name = 'inbox', title, hint, action } = {}) {
  return h(
    'div',
    { class: 'empty' },
    h('div', { class: 'empty-icon' }, icon(name)),
    h('p', { class: 'empty-title', text: title }),
    hint ? h('p', { class: 'empty-hint', text: hint }) : null,
    action || null,
  );
}

/** Before a view's first load: a spinner, or the failure when that load failed. */
export function pendingState(failed) {
  return failed ? emptyState({ title: S.requestFailed }) : spinnerBlock(S.loading);
}

/** Instead of a section the user's role may not read. */
export function forbiddenState() {
  return emptyState({ icon: 'lock', title: S.forbiddenSection, hint: S.forbiddenSectionHint });
}

export function button(label, { icon: name, kind = 'secondary', onClick, title, small = false, testid } = {}) {
  return h(
    'button',
    {
      type: 'button',
      class: `btn btn-${kind}${small ? ' btn-sm' : ''}`,
      title: title || null,
      'aria-label': title || null,
      dataset: testid ? { action: testid } : undefined,
      on: onClick ? { click: onClick } : undefined,
    },
    name ? icon(name) : null,
    label ? h('span', { text: label }) : null,
  );
}

/** A small icon-only button for a row's actions; testid becomes its data-action. */
export function rowButton(name, title, testid, onClick, kind = 'secondary') {
  return button('', { icon: name, title, small: true, kind, testid, onClick });
}

export function editButton(onClick) {
  return rowButton('edit', S.edit, 'edit', onClick);
}

export function deleteButton(onClick) {
  return rowButton('trash', S.delete, 'delete', onClick, 'ghost-danger');
}

function rowActions(...buttons) {
  const present = buttons.filter(Boolean);
  return present.length ? h('div', { class: 'row-actions' }, present) : null;
}

/** The last column: buttons(row) → the row's action buttons (false ones left out); hidden when none may show. */
export function actionsColumn(hidden, buttons) {
  return { label: S.actions, className: 'col-actions', hidden, render: (row) => rowActions(...buttons(row)) };
}

export function pageHeader(title, subtitle, actions = []) {
  return h(
    'header',
    { class: 'page-header' },
    h('div', {}, h('h1', { text: title }), subtitle ? h('p', { class: 'page-subtitle', text: subtitle }) : null),
    h('div', { class: 'page-actions' }, actions.filter(Boolean)),
  );
}

export function badge(text, kind = 'neutral') {
  return h('span', { class: `badge badge-${kind}`, text });
}
