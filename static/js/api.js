// SPDX-License-Identifier: MIT
// Every HTTP call: bearer token, X-Socket-ID, a unique X-Operation-ID and its own progress indicator.
import { track } from './progress.js';
import { session } from './session.js';
import { socketId } from './socket.js';
import { S } from './strings.js';

const BASE = '/api/v1';
const tab = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
let counter = 0;
let unauthorizedHandler = () => {};
const mine = new Set(); // operationIds this tab started, so the change feed can recognise them after a reconnect

export class ApiError extends Error {
  constructor(status, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function isMine(operationId) {
  return mine.has(operationId);
}

function nextOperationId() {
  counter += 1;
  return `web-${tab}-${Date.now().toString(36)}-${counter.toString(36)}`;
}

function remember(operationId) {
  mine.add(operationId);
  if (mine.size > 500) mine.delete(mine.values().next().value);
}

/**
 * call('PUT', '/users/3', {body, query, op, quiet, notify}) → {data, meta, message}; throws ApiError.
 * `op` names the operation for the indicator; `quiet` skips the indicator (background reads);
 * `notify` toasts a success (default: writes only); `alertErrors: false` leaves errors to the caller (inline).
 */
export async function call(
  method,
  path,
  { body, query, op, quiet = false, notify, alertErrors = true, anonymous = false } = {},
) {
  const operationId = nextOperationId();
  const headers = { Accept: 'application/json', 'X-Operation-ID': operationId };
  if (session.token && !anonymous) headers.Authorization = `Bearer ${session.token}`;
  const sid = socketId();
  if (sid) headers['X-Socket-ID'] = sid;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const url = new URL(BASE + path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const write = method !== 'GET';
  if (write) remember(operationId);
  const indicator = quiet ? null : track(operationId, S.operations[op] || S.working);
  const toastSuccess = notify ?? write;
  const toastError = alertErrors;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    indicator?.fail(S.networkError, toastError);
    throw new ApiError(0, S.networkError);
  }
  let envelope = null;
  try {
    envelope = await response.json();
  } catch {
    envelope = null;
  }
  if (!response.ok || !envelope || envelope.success !== true) {
    const message = envelope?.message || S.unexpectedError;
    const error = new ApiError(response.status, message, response.headers.get('Retry-After'));
    if (response.status === 401 && headers.Authorization) {
      indicator?.fail(message, false);
      unauthorizedHandler(error);
    } else {
      indicator?.fail(message, toastError);
    }
    throw error;
  }
  indicator?.succeed(envelope.message, toastSuccess);
  return envelope;
}
