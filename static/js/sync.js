// SPDX-License-Identifier: MIT
// data:changed in seq order, exactly once: live events, and the change feed after a reconnect (SPEC §7).
import { call, isMine } from './api.js';
import { socketId } from './socket.js';

const LATEST = Number.MAX_SAFE_INTEGER; // `since` past the end: no rows, just meta.latestSeq
const PAGE = 500;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
const listeners = new Set();
const resetListeners = new Set();
let lastSeq = 0;
let catching = false;
let buffered = [];
let retryTimer = null;
let retryMs = RETRY_FIRST_MS;

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

/** After a reconnect: replay what we missed, oldest first; live events wait until the gap is filled.
 * A replay that fails for a passing reason (the process went away, a 503 or a proxy's 429) is tried again,
 * sooner first, while live events keep waiting: applying them over the gap would lose its changes for good. */
export async function catchUp() {
  if (catching) return;
  catching = true;
  clearTimeout(retryTimer);
  try {
    await replay();
  } catch (error) {
    if (passing(error)) {
      retryTimer = setTimeout(() => {
        catching = false;
        catchUp().catch(() => {});
      }, retryMs);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      return;
    }
    drain();
    throw error;
  }
  retryMs = RETRY_FIRST_MS;
  drain();
}

function passing(error) {
  return error.status === 0 || error.status === 429 || error.status >= 500;
}

/** The changes after lastSeq, page by page; a feed pruned past lastSeq (410) reloads everything instead. */
async function replay() {
  try {
    for (;;) {
      const { data } = await call('GET', '/changes', { query: { since: lastSeq, limit: PAGE }, quiet: true });
      for (const change of data) apply(change);
      if (data.length < PAGE) return;
    }
  } catch (error) {
    if (error.status !== 410) throw error;
    lastSeq = 0;
    await baseline();
    for (const fn of resetListeners) fn();
  }
}

/** Live events that waited for the replay, in seq order (apply skips those the replay brought). */
function drain() {
  catching = false;
  const pending = buffered.sort((a, b) => a.seq - b.seq);
  buffered = [];
  pending.forEach(apply);
}

export function resetSync() {
  clearTimeout(retryTimer);
  retryMs = RETRY_FIRST_MS;
  lastSeq = 0;
  catching = false;
  buffered = [];
}
