// SPDX-License-Identifier: MIT
// The screens before the console: login (errors inline) and the forced password change.
import { call } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { S } from '../strings.js';

function brand() {
  return h(
    'div',
    { class: 'auth-brand' },
    h('span', { class: 'logo' }, icon('shield')),
    h('span', {}, h('strong', { text: S.appName }), h('span', { class: 'muted', text: S.appTagline })),
  );
}

function input(name, label, type, autocomplete, extra = {}) {
  const id = `auth-${name}`;
  const el = h('input', { id, name, type, autocomplete, required: true, maxlength: 100, ...extra });
  return { el, field: h('div', { class: 'field' }, h('label', { for: id, text: label }), el) };
}

/** A form of these fields whose errors show inline: onSubmit(showError) runs with the button disabled. */
export function authForm(fields, submitLabel, onSubmit) {
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', text: submitLabel });
  const form = h(
    'form',
    { class: 'auth-form' },
    fields.map((f) => f.field),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await onSubmit((message) => {
        error.textContent = message;
        error.hidden = false;
      });
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function authCard(title, subtitle, notice, fields, submitLabel, onSubmit, extra = null) {
  const form = authForm(fields, submitLabel, onSubmit);
  return h(
    'div',
    { class: 'auth-screen' },
    h(
      'section',
      { class: 'auth-card' },
      brand(),
      h('h1', { text: title }),
      h('p', { class: 'muted', text: subtitle }),
      notice ? h('div', { class: 'notice', role: 'status' }, icon('lock'), h('span', { text: notice })) : null,
      form,
      extra,
    ),
  );
}

/** Resolves with the login data once the server accepts the credentials. */
export function showLogin(root, notice, onLoggedIn) {
  const email = input('email', S.email, 'email', 'username');
  const password = input('password', S.password, 'password', 'current-password');
  replace(
    root,
    authCard(S.loginTitle, S.loginSubtitle, notice, [email, password], S.loginButton, async (showError) => {
      try {
        const { data } = await call('POST', '/auth/login', {
          body: { email: email.el.value.trim(), password: password.el.value },
          op: 'auth:login',
          anonymous: true,
          alertErrors: false,
          notify: false,
        });
        await onLoggedIn(data);
      } catch (error) {
        const wait = Number(error.retryAfter);
        showError(error.status === 429 && wait > 0 ? `${error.message}. ${S.retryIn(wait)}` : error.message);
        password.el.select();
      }
    }),
  );
  email.el.focus();
}

/**
 * The current / new / repeated password fields and their submit: PUT /auth/password, then onChanged(new token).
 * Shared by the forced change and "Mi cuenta"; the server closes the user's other sessions.
 */
export function passwordChange(onChanged) {
  const current = input('currentPassword', S.currentPassword, 'password', 'current-password');
  const next = input('newPassword', S.newPassword, 'password', 'new-password');
  const again = input('confirmPassword', S.confirmPassword, 'password', 'new-password');
  const submit = async (showError) => {
    if (next.el.value !== again.el.value) return showError(S.passwordsDiffer);
    try {
      const { data } = await call('PUT', '/auth/password', {
        body: { currentPassword: current.el.value, newPassword: next.el.value },
        op: 'auth:password',
        alertErrors: false,
      });
      await onChanged(data.token);
    } catch (error) {
      showError(error.message);
    }
  };
  return { fields: [current, next, again], submit };
}

/** mustChangePassword: the console stays closed until a new password is set; resolves with the new token. */
export function showPasswordChange(root, onChanged, onCancel) {
  const change = passwordChange(onChanged);
  const cancel = h('button', {
    type: 'button',
    class: 'btn btn-ghost btn-block',
    'data-action': 'logout',
    text: S.logout,
    on: { click: () => onCancel() },
  });
  replace(
    root,
    authCard(
      S.changePasswordTitle,
      S.changePasswordSubtitle,
      null,
      change.fields,
      S.changePasswordButton,
      change.submit,
      cancel,
    ),
  );
  change.fields[0].el.focus();
}
