// Sign-in with an access key pair; the server answers with a session cookie (HttpOnly, so this
// code never sees it) and the session's CSRF token.

import { api } from '../api.js';
import { clear, h } from '../dom.js';

export function render(view, { onSignedIn }) {
  const error = h('p', { class: 'error', id: 'signin-error' });
  const keyId = h('input', { name: 'access_key_id', id: 'access_key_id', autocomplete: 'username', required: true });
  const secret = h('input', { name: 'secret_access_key', id: 'secret_access_key', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'stack', id: 'signin-form' },
    h('label', {}, 'Access key id', keyId),
    h('label', {}, 'Secret access key', secret),
    h('button', { type: 'submit' }, 'Sign in'),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const session = await api('POST', '/console/api/session', { access_key_id: keyId.value, secret_access_key: secret.value });
      onSignedIn(session);
    } catch (err) {
      error.textContent = err.message;
    }
  });
  clear(view, h('div', { class: 'signin' },
    h('h1', {}, 'Sign in to Stratus'),
    h('p', { class: 'muted' }, 'Use an access key and its secret (from `stratus keys create` or your administrator).'),
    form));
  keyId.focus();
}
