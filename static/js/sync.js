// SPDX-License-Identifier: MIT
// data:changed in seq order, exactly once: live events, and the change feed after a reconnect (SPEC §7).
import { call, isMine } from './api.js';
import { socketId } from './socket.js';

const LATEST = Number.MAX_SAFE_INTEGER; // `since` past the end: no rows, just meta.latestSeq
const PAGE = 500;
const listeners = new Set();
const resetListeners = new Set();
let lastSeq = 0;
let catching = false;
let buffered = [];

/** fn(change, own): own is true for changes this tab made (it already applied their HTTP result). */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** fn(): the feed could not fill a gap (410) — reload everything from scratch. */
export function onReset(fn) {
  resetListeners.add(fn);
  return () => resetListeners.delete(fn);
}

/** Start from "now": data loaded after this already contains every earlier change. */
export async function baseline() {
  const { meta } = await call('GET', '/changes', { query: { since: LATEST, limit: 1 }, quiet: true });
  lastSeq = Math.max(lastSeq, meta.latestSeq || 0);
}

export function receive(change) {
  if (catching) buffered.push(change);
  else apply(change);
}

function apply(change) {
  if (!change || typeof change.seq !== 'number' || change.seq <= lastSeq) return;
  lastSeq = change.seq;
  document.body.dataset.seq = String(lastSeq); // observable progress, for operators and browser tests
  const sid = socketId();
  const own = isMine(change.operationId) || (sid !== null && change.initiatorSocketId === sid);
  for (const fn of listeners) fn(change, own);
}

/** After a reconnect: replay what we missed, oldest first; live events wait until the gap is filled. */
export async function catchUp() {
  if (catching) return;
  catching = true;
  try {
    for (;;) {
      const { data } = await call('GET', '/changes', { query: { since: lastSeq, limit: PAGE }, quiet: true });
      for (const change of data) apply(change);
      if (data.length < PAGE) break;
    }
  } catch (error) {
    if (error.status !== 410) throw error;
    lastSeq = 0;
    await baseline();
    for (const fn of resetListeners) fn();
  } finally {
    catching = false;
    const pending = buffered.sort((a, b) => a.seq - b.seq);
    buffered = [];
    pending.forEach(apply);
  }
}

export function resetSync() {
  lastSeq = 0;
  catching = false;
  buffered = [];
}
