// Administration (operators and project admins): projects, access keys (Stratus has no
// separate user accounts: a user is an access key with a role in a project), and quotas.

import { api, get, session } from '../api.js';
import { bytes, clear, flash, guarded, h, num, table, when } from '../dom.js';

const LIMITS = [
  ['max_storage_bytes', 'Storage bytes', 'storage_bytes'],
  ['max_objects', 'Objects', 'objects'],
  ['max_functions', 'Functions', 'functions'],
  ['max_worker_memory_mb', 'Worker memory MB', 'worker_memory_mb'],
  ['max_concurrent_invocations', 'Concurrent invocations', 'concurrent_invocations'],
];

async function keysSection(refresh) {
  const { keys } = await get('/v1/keys');
  const project = h('input', { id: 'key-project', value: session.project, required: true });
  const role = h('select', { id: 'key-role' }, ['member', 'read-only', 'admin'].map((r) => h('option', { value: r }, r)));
  const secret = h('div', { id: 'new-key' });
  const form = h('form', { class: 'inline', id: 'create-key' }, h('label', {}, 'Project', project), h('label', {}, 'Role', role), h('button', { type: 'submit' }, 'Create key'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const key = await api('POST', '/v1/keys', { project: project.value, role: role.value });
      clear(secret, h('p', { class: 'secret' }, `New key ${key.access_key_id} — secret (shown once, copy it now): ${key.secret_access_key}`));
      refresh();
    });
  });
  const remove = (id) => h('button', { class: 'danger', onclick: () => guarded(async () => {
    if (!confirm(`Delete key ${id}? Its sessions end and its requests fail from now on.`)) return;
    await api('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
    flash(`Deleted ${id}.`, true);
    refresh();
  }) }, 'Delete');
  return [h('h2', {}, 'Users and keys'),
    h('p', { class: 'muted' }, 'Stratus has no separate user accounts: each person or program gets an access key with a role (admin, member or read-only) in one project.'),
    form, secret,
    table(['Access key id', 'Project', 'Role', 'Created', ''], keys.map((k) => [k.access_key_id, k.project, k.role, when(k.created_ms), k.access_key_id === session.access_key_id ? h('span', { class: 'muted' }, 'this session') : remove(k.access_key_id)]))];
}

async function quotaSection(project) {
  const out = h('div', { id: 'quota-view' });
  try {
    const quota = await get(`/v1/projects/${encodeURIComponent(project)}/quota`);
    const inputs = {};
    const rows = LIMITS.map(([limit, label, used]) => {
      inputs[limit] = h('input', { type: 'number', min: 0, value: quota.limits[limit] ?? '', placeholder: 'no limit', disabled: !session.operator });
      const usage = quota.usage[used];
      return [label, num(limit === 'max_storage_bytes' ? bytes(usage) : usage), inputs[limit]];
    });
    const save = h('button', { type: 'button', disabled: !session.operator, onclick: () => guarded(async () => {
      const limits = {};
      for (const [limit] of LIMITS) limits[limit] = inputs[limit].value === '' ? null : Number(inputs[limit].value);
      await api('PUT', `/v1/projects/${encodeURIComponent(project)}/quota`, { limits });
      flash(`Saved the quota of ${project}.`, true);
    }) }, 'Save quota');
    clear(out, table(['Resource', 'Used', 'Limit'], rows), session.operator ? save : h('p', { class: 'muted' }, 'Only operators change quotas.'));
  } catch (err) {
    clear(out, h('p', { class: 'error' }, `Quotas are unavailable: ${err.message}`));
  }
  return [h('h2', {}, `Quota of ${project}`), out];
}

async function projectsSection(onPick) {
  try {
    const { projects } = await get('/v1/projects');
    return [h('h2', {}, 'Projects'), table(['Project', ''], projects.map((p) => {
      const name = typeof p === 'string' ? p : p.project || p.name;
      return [name, h('button', { class: 'secondary', onclick: () => onPick(name) }, 'Quota')];
    }))];
  } catch (err) {
    return [h('h2', {}, 'Projects'), h('p', { class: 'error' }, `Projects are unavailable: ${err.message}`)];
  }
}

export async function render(view) {
  if (!(session.operator || session.role === 'admin')) {
    clear(view, h('h1', {}, 'Administration'), h('p', { class: 'error' }, 'Only project admins and operators administer keys and quotas.'));
    return;
  }
  const quotaBox = h('div');
  const keysBox = h('div');
  const showQuota = async (project) => clear(quotaBox, await quotaSection(project));
  const refreshKeys = async () => clear(keysBox, await keysSection(refreshKeys));
  const projects = session.operator ? await projectsSection(showQuota) : [];
  clear(view, h('h1', {}, 'Administration'), projects, quotaBox, keysBox);
  await Promise.all([showQuota(session.project), refreshKeys()]);
}
