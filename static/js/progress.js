// SPDX-License-Identifier: MIT
// One progress indicator per API call, fed only by operation:progress events carrying that call's operationId.
import { h, raise } from './dom.js';
import { S } from './strings.js';
import { toast } from './toast.js';

const open = new Map(); // operationId -> indicator

function region() {
  return document.getElementById('progress');
}

/** Show an indicator for a call about to start; returns {succeed, fail} to close it exactly once. */
export function track(operationId, label) {
  const message = h('span', { class: 'op-message', text: S.working });
  const item = h(
    'div',
    { class: 'op', role: 'status', dataset: { opId: operationId, status: 'pending' } },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', { class: 'op-body' }, h('strong', { class: 'op-label', text: label }), message),
  );
  const indicator = { item, message, closed: false };
  open.set(operationId, indicator);
  region().append(item);
  raise(region());
  const close = (kind, text, notify) => {
    if (indicator.closed) return;
    indicator.closed = true;
    open.delete(operationId);
    item.remove();
    if (notify && text) toast(kind, text);
  };
  return {
    succeed: (text, notify = true) => close('success', text, notify),
    fail: (text, notify = true) => close('error', text, notify),
  };
}

/** An operation:progress event: update the indicator of exactly that call, if this tab made it. */
export function onProgress(event) {
  const indicator = event && open.get(event.operationId);
  if (!indicator || indicator.closed) return;
  indicator.item.dataset.status = event.status;
  if (event.message) indicator.message.textContent = event.message;
}

export function clearProgress() {
  for (const indicator of open.values()) {
    indicator.closed = true;
    indicator.item.remove();
  }
  open.clear();
}
