// Buckets: list, create, delete; inside a bucket, browse by prefix with "folders" (common
// prefixes computed from the keys), upload with a progress bar (a PUT, or an S3 POST form),
// download, delete; versioning, public access and the versions view (bucket_settings.js).

import { api, get, keyPath, upload } from '../api.js';
import { bytes, clear, flash, guarded, h, num, table, when } from '../dom.js';
import { postUploadForm, settingsBar, versionsTable } from './bucket_settings.js';

async function listAll(bucket, prefix) {
  const objects = [];
  let after = '';
  for (let page = 0; page < 50; page += 1) {
    const q = new URLSearchParams({ prefix, after });
    const listing = await get(`/v1/buckets/${encodeURIComponent(bucket)}/objects?${q}`);
    objects.push(...listing.objects);
    if (!listing.next_after) break;
    after = listing.next_after;
  }
  return objects;
}

async function renderList(view) {
  const { buckets } = await get('/v1/buckets');
  const name = h('input', { id: 'new-bucket', placeholder: 'my-bucket', required: true, pattern: '[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]' });
  const form = h('form', { class: 'inline', id: 'create-bucket' }, h('label', {}, 'New bucket', name), h('button', { type: 'submit' }, 'Create'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      await api('PUT', `/v1/buckets/${encodeURIComponent(name.value)}`);
      flash(`Created bucket ${name.value}.`, true);
      renderList(view);
    });
  });
  const remove = (bucket) => h('button', { class: 'danger', onclick: () => guarded(async () => {
    if (!confirm(`Delete the empty bucket ${bucket}?`)) return;
    await api('DELETE', `/v1/buckets/${encodeURIComponent(bucket)}`);
    renderList(view);
  }) }, 'Delete');
  clear(view, h('h1', {}, 'Buckets'), form,
    table(['Name', 'Created', ''], buckets.map((b) => [
      h('a', { href: `#/buckets/${encodeURIComponent(b.name)}` }, b.name), when(b.created_ms), remove(b.name)]),
    'No buckets yet.'));
}

function crumbs(bucket, prefix) {
  const parts = prefix.split('/').filter(Boolean);
  const links = [h('a', { href: '#/buckets' }, 'Buckets'), ' / ', h('a', { href: `#/buckets/${encodeURIComponent(bucket)}` }, bucket)];
  let acc = '';
  for (const part of parts) {
    acc += `${part}/`;
    links.push(' / ', h('a', { href: `#/buckets/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(acc)}` }, part));
  }
  return h('p', { class: 'crumbs' }, links);
}

// "Objects" and "Versions" links for the same prefix.
function viewTabs(bucket, prefix, current) {
  const link = (name, label) => {
    const q = new URLSearchParams({ prefix });
    if (name === 'versions') q.set('view', 'versions');
    return name === current ? h('strong', {}, label) : h('a', { href: `#/buckets/${encodeURIComponent(bucket)}?${q}`, id: `tab-${name}` }, label);
  };
  return h('p', { class: 'tabs' }, link('objects', 'Objects'), ' | ', link('versions', 'Versions'));
}

async function renderVersions(view, bucket, prefix) {
  const rerender = () => renderVersions(view, bucket, prefix);
  clear(view, h('h1', {}, `Bucket ${bucket}`), crumbs(bucket, prefix), await settingsBar(bucket, rerender),
    viewTabs(bucket, prefix, 'versions'), await versionsTable(bucket, prefix, rerender));
}

async function renderBucket(view, bucket, prefix) {
  const objects = await listAll(bucket, prefix);
  const folders = new Set();
  const files = [];
  for (const o of objects) {
    const rest = o.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash >= 0) folders.add(prefix + rest.slice(0, slash + 1));
    else files.push(o);
  }
  const base = `/v1/buckets/${encodeURIComponent(bucket)}/objects/`;
  const file = h('input', { type: 'file', id: 'upload-file', required: true });
  const keyName = h('input', { id: 'upload-key', placeholder: 'key (default: file name)' });
  const progress = h('progress', { id: 'upload-progress', max: 100, value: 0 });
  const status = h('span', { id: 'upload-status', class: 'muted' });
  const form = h('form', { class: 'inline', id: 'upload-form' },
    h('label', {}, 'File', file), h('label', {}, `Key under ${prefix || '/'}`, keyName),
    h('button', { type: 'submit' }, 'Upload'), progress, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    const key = prefix + (keyName.value || chosen.name);
    guarded(async () => {
      status.textContent = 'uploading…';
      await upload(base + keyPath(key), chosen, (done, total) => {
        progress.value = total ? Math.round((100 * done) / total) : 100;
        status.textContent = `${bytes(done)} of ${bytes(total)}`;
      });
      status.textContent = `uploaded ${key}`;
      flash(`Uploaded ${key}.`, true);
      setTimeout(() => renderBucket(view, bucket, prefix), 400);
    }).finally(() => { if (status.textContent === 'uploading…') status.textContent = 'failed'; });
  });
  const remove = (key) => h('button', { class: 'danger', onclick: () => guarded(async () => {
    if (!confirm(`Delete ${key}?`)) return;
    await api('DELETE', base + keyPath(key));
    renderBucket(view, bucket, prefix);
  }) }, 'Delete');
  const rows = [
    ...[...folders].sort().map((f) => [h('a', { href: `#/buckets/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(f)}` }, `📁 ${f.slice(prefix.length)}`), '', '', '']),
    ...files.map((o) => [
      h('a', { href: base + keyPath(o.key), download: o.key.split('/').pop(), class: 'object-link' }, o.key.slice(prefix.length)),
      num(bytes(o.size)), when(o.last_modified_ms), remove(o.key)]),
  ];
  const rerender = () => renderBucket(view, bucket, prefix);
  clear(view, h('h1', {}, `Bucket ${bucket}`), crumbs(bucket, prefix), await settingsBar(bucket, rerender),
    form, postUploadForm(bucket, prefix, rerender), viewTabs(bucket, prefix, 'objects'),
    h('div', { id: 'object-list' }, table(['Name', 'Size', 'Modified', ''], rows, 'No objects under this prefix.')));
}

export async function render(view, { arg, query }) {
  if (arg && query.get('view') === 'versions') return renderVersions(view, arg, query.get('prefix') || '');
  if (arg) return renderBucket(view, arg, query.get('prefix') || '');
  return renderList(view);
}
