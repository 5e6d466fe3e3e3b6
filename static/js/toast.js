// SPDX-License-Identifier: MIT
// Transient notifications for finished operations.
import { h, icon, raise } from './dom.js';
import { S } from './strings.js';

const TOAST_MS = { success: 3500, error: 6000, info: 4000 };
const MAX_VISIBLE = 3;

function region() {
  return document.getElementById('toasts');
}

export function toast(kind, message) {
  const close = () => item.remove();
  const item = h(
    'div',
    { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'error' ? 'x' : kind === 'success' ? 'check' : 'dot', 'icon toast-icon'),
    h('span', { class: 'toast-text', text: message }),
    h('button', { class: 'icon-button', type: 'button', 'aria-label': S.close, on: { click: close } }, icon('x')),
  );
  region().append(item);
  raise(region());
  while (region().children.length > MAX_VISIBLE) region().firstElementChild.remove();
  setTimeout(close, TOAST_MS[kind] || TOAST_MS.info);
}
