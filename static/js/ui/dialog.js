// SPDX-License-Identifier: MIT
// Modal dialogs (<dialog>): forms and confirmations whose API errors are shown inline.
import { call } from '../api.js';
import { h, icon } from '../dom.js';
import { S } from '../strings.js';

function shell(title, body, footer, { wide = false } = {}) {
  const dialog = h(
    'dialog',
    { class: `dialog${wide ? ' dialog-wide' : ''}` },
    h(
      'div',
      { class: 'dialog-head' },
      h('h2', { text: title }),
      h(
        'button',
        { type: 'button', class: 'icon-button', 'aria-label': S.close, on: { click: () => dialog.close() } },
        icon('x'),
      ),
    ),
    body,
    footer,
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

function errorBox() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

function showError(box, message) {
  box.textContent = message;
  box.hidden = !message;
}

function field(spec, value) {
  const id = `f-${spec.name}-${Math.random().toString(36).slice(2, 8)}`;
  let input;
  if (spec.type === 'select') {
    input = h(
      'select',
      { id, name: spec.name, required: spec.required },
      spec.options.map((o) =>
        h('option', { value: String(o.value), text: o.label, selected: String(o.value) === String(value) }),
      ),
    );
  } else if (spec.type === 'textarea') {
    input = h('textarea', { id, name: spec.name, rows: 3, maxlength: spec.maxlength, placeholder: spec.placeholder });
    input.value = value ?? '';
  } else {
    input = h('input', {
      id,
      name: spec.name,
      type: spec.type || 'text',
      required: spec.required,
      minlength: spec.minlength,
      maxlength: spec.maxlength,
      placeholder: spec.placeholder,
      autocomplete: spec.autocomplete || 'off',
    });
    input.value = value ?? '';
  }
  const label = h(
    'label',
    { for: id },
    spec.label,
    spec.required ? null : h('span', { class: 'muted', text: ` (${S.optional})` }),
  );
  return h(
    'div',
    { class: 'field' },
    label,
    input,
    spec.hint ? h('p', { class: 'field-hint', text: spec.hint }) : null,
  );
}

/** A form; onSubmit(values) may throw an ApiError whose message stays inline. Resolves true when saved. */
export function formDialog({ title, fields, initial = {}, submitLabel = S.save, onSubmit }) {
  return new Promise((resolve) => {
    const error = errorBox();
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: submitLabel });
    const footer = h(
      'div',
      { class: 'dialog-foot' },
      h('button', { type: 'button', class: 'btn btn-secondary', text: S.cancel, on: { click: () => dialog.close() } }),
      submit,
    );
    const form = h(
      'form',
      { class: 'dialog-form' },
      h(
        'div',
        { class: 'dialog-body' },
        fields.map((f) => field(f, initial[f.name])),
        error,
      ),
      footer,
    );
    let saved = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      const values = {};
      for (const f of fields) values[f.name] = form.elements[f.name].value;
      submit.disabled = true;
      showError(error, '');
      try {
        await onSubmit(values);
        saved = true;
        dialog.close();
      } catch (e) {
        showError(error, e.message);
      } finally {
        submit.disabled = false;
      }
    });
    const dialog = shell(title, form, null);
    dialog.addEventListener('close', () => resolve(saved));
    form.querySelector('input, select, textarea')?.focus();
  });
}

/** A yes/no question; onConfirm may throw an ApiError, shown inline with an optional hint per status. */
export function confirmDialog({ title, message, confirmLabel, danger = true, onConfirm, hints = {} }) {
  return new Promise((resolve) => {
    const error = errorBox();
    const hint = h('p', { class: 'field-hint', hidden: true });
    const confirm = h('button', {
      type: 'button',
      class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`,
      text: confirmLabel,
    });
    let done = false;
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      showError(error, '');
      hint.hidden = true;
      try {
        await onConfirm();
        done = true;
        dialog.close();
      } catch (e) {
        showError(error, e.message);
        if (hints[e.status]) {
          hint.textContent = hints[e.status];
          hint.hidden = false;
        }
      } finally {
        confirm.disabled = false;
      }
    });
    const body = h('div', { class: 'dialog-body' }, h('p', { text: message }), error, hint);
    const footer = h(
      'div',
      { class: 'dialog-foot' },
      h('button', { type: 'button', class: 'btn btn-secondary', text: S.cancel, on: { click: () => dialog.close() } }),
      confirm,
    );
    const dialog = shell(title, body, footer);
    dialog.addEventListener('close', () => resolve(done));
    confirm.focus();
  });
}

/** A write made from a dialog → its data; a refusal is thrown for the dialog to show inline, never toasted. */
export async function dialogCall(method, path, op, body) {
  const { data } = await call(method, path, { body, op, alertErrors: false });
  return data;
}

/** "Delete …?": on confirmation DELETE path, then onDeleted(); a refusal stays in the dialog (with hints[status]). */
export function deleteDialog({ title, message, path, op, hints, onDeleted }) {
  return confirmDialog({
    title,
    message,
    confirmLabel: S.confirmDelete,
    hints,
    onConfirm: async () => {
      await dialogCall('DELETE', path, op);
      onDeleted();
    },
  });
}

/** Free content (e.g. a shown-once secret or a checklist); resolves when closed. */
export function infoDialog({ title, body, wide = false }) {
  return new Promise((resolve) => {
    const footer = h(
      'div',
      { class: 'dialog-foot' },
      h('button', { type: 'button', class: 'btn btn-primary', text: S.close, on: { click: () => dialog.close() } }),
    );
    const dialog = shell(title, h('div', { class: 'dialog-body' }, body), footer, { wide });
    dialog.addEventListener('close', () => resolve());
  });
}
