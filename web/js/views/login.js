// Login screen: username or email + password. The device name is "Web".

import * as api from '../api.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t, getLanguage, setLanguage, errorText } from '../i18n.js';

/**
 * @param {{onLoggedIn: (resp: object) => void, notice?: string}} opts
 *   resp is the LoginResponse {token, session, user}.
 * @returns {HTMLElement}
 */
export function renderLogin({ onLoggedIn, notice = '' }) {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const loginInput = h('input', {
    id: 'login-name',
    name: 'login',
    type: 'text',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    maxlength: '254',
    'aria-describedby': 'login-error',
  });
  const passwordInput = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': 'login-error',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('login.submit'));

  const form = h(
    'form',
    { class: 'login-form', novalidate: true, 'aria-labelledby': 'login-title', on: { submit: onSubmit } },
    h('div', { class: 'field' }, h('label', { for: 'login-name' }, t('login.name')), loginInput),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), passwordInput),
    error,
    submit,
  );

  async function onSubmit(ev) {
    ev.preventDefault();
    error.textContent = '';
    const name = loginInput.value.trim();
    const password = passwordInput.value;
    if (!name || !password) {
      error.textContent = t('login.missing');
      (name ? passwordInput : loginInput).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      const resp = await api.login(name, password, 'Web');
      passwordInput.value = '';
      onLoggedIn(resp);
    } catch (e) {
      error.textContent = errorText(e);
      passwordInput.value = '';
      passwordInput.focus();
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  }

  const other = getLanguage() === 'de' ? 'en' : 'de';
  const langButton = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-link',
      lang: other,
      on: { click: () => setLanguage(other) },
    },
    t(other === 'de' ? 'lang.switchToDe' : 'lang.switchToEn'),
  );

  queueMicrotask(() => loginInput.focus());

  return h(
    'div',
    { class: 'login-screen' },
    h(
      'div',
      { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('img', { src: '/icon.svg', alt: '', width: '48', height: '48' }), h('span', null, 'Kontor')),
      h('h1', { id: 'login-title', class: 'login-title' }, t('login.title')),
      notice ? h('p', { class: 'notice', role: 'status' }, icon('info'), ' ', notice) : null,
      form,
      h('div', { class: 'login-footer' }, langButton),
    ),
  );
}
