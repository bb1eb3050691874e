// Functions: the list, and a deploy form (zip + runtime, handler, memory, timeout) that sends
// the same document `stratus deploy` does: PUT /v1/functions/NAME with the zip in base64.

import { api, get } from '../api.js';
import { bytes, clear, flash, guarded, h, num, table, when } from '../dom.js';

function base64(buffer) {
  const data = new Uint8Array(buffer);
  let text = '';
  for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return btoa(text);
}

function deployForm(onDeployed) {
  const name = h('input', { id: 'fn-name', required: true, placeholder: 'hello' });
  const zip = h('input', { id: 'fn-zip', type: 'file', accept: '.zip,application/zip', required: true });
  const runtime = h('input', { id: 'fn-runtime', value: 'python3.11', required: true });
  const handler = h('input', { id: 'fn-handler', value: 'app.handler', required: true });
  const memory = h('input', { id: 'fn-memory', type: 'number', value: 128, min: 128, max: 10240 });
  const timeout = h('input', { id: 'fn-timeout', type: 'number', value: 30, min: 1, max: 900 });
  const form = h('form', { class: 'inline', id: 'deploy-form' },
    h('label', {}, 'Name', name), h('label', {}, 'Code (.zip)', zip), h('label', {}, 'Runtime', runtime),
    h('label', {}, 'Handler', handler), h('label', {}, 'Memory (MB)', memory), h('label', {}, 'Timeout (s)', timeout),
    h('button', { type: 'submit' }, 'Deploy'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const file = zip.files[0];
      if (!file) throw new Error('choose a .zip file with the code');
      const doc = {
        config: { runtime: runtime.value, handler: handler.value, memory_mb: Number(memory.value), timeout_s: Number(timeout.value) },
        zip: base64(await file.arrayBuffer()),
      };
      await api('PUT', `/v1/functions/${encodeURIComponent(name.value)}`, doc);
      flash(`Deployed ${name.value}.`, true);
      onDeployed(name.value);
    });
  });
  return form;
}

export async function render(view) {
  const { functions } = await get('/v1/functions');
  clear(view, h('h1', {}, 'Functions'),
    h('h2', {}, 'Deploy'),
    deployForm((fn) => { location.hash = `#/functions/${encodeURIComponent(fn)}`; }),
    h('h2', {}, 'All functions'),
    table(['Name', 'Runtime', 'Handler', 'Memory MB', 'Timeout s', 'Code', 'Modified'],
      functions.map((f) => [h('a', { href: `#/functions/${encodeURIComponent(f.name)}` }, f.name), f.runtime, f.handler,
        num(f.memory_mb), num(f.timeout_s), num(bytes(f.code_size)), when(f.last_modified_ms)]),
      'No functions yet.'));
}
