// SPDX-License-Identifier: MIT
// What the list views share about their records: loading them into the view's state, putting one in place.
import { ApiError } from '../api.js';

/**
 * Merge what fetch() resolves to into state and mark it loaded. An API error (its indicator already told the
 * user) keeps what is on screen; only a view that never loaded marks itself failed. Other errors propagate.
 */
export async function loadInto(state, fetch) {
  try {
    Object.assign(state, await fetch(), { loaded: true, failed: false });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    state.failed = !state.loaded;
  }
}

/** Put record in place of the row with the same key (merged into it), or append it. */
export function putRow(rows, key, record) {
  const index = rows.findIndex((row) => row[key] === record[key]);
  if (index < 0) rows.push(record);
  else rows[index] = { ...rows[index], ...record };
}
