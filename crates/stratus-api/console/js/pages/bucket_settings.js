// A bucket's settings bar (versioning, public access with a warning), its versions view, and
// the S3 POST-form upload: the parts of the bucket page beyond browsing objects.

import { api, get, keyPath, postForm } from '../api.js';
import { bytes, flash, guarded, h, num, table, when } from '../dom.js';

const enc = encodeURIComponent;
const PUBLIC_WARNING = 'Make this bucket public?\n\nAnyone on the internet, without a key, will be able to list '
  + 'every key in it and read every object whose own ACL allows it. Do this only for data you mean to publish.';

// The bar above a bucket's listing. `rerender` redraws the page after a change.
export async function settingsBar(bucket, rerender) {
  const settings = await get(`/v1/buckets/${enc(bucket)}/settings`);
  const change = (path, body, done) => guarded(async () => {
    await api('PUT', `/v1/buckets/${enc(bucket)}/${path}`, body);
    flash(done, true);
    rerender();
  });
  const versioningButton = settings.object_lock
    ? h('span', { class: 'muted' }, ' (Object Lock keeps it enabled)')
    : h('button', {
      id: 'toggle-versioning',
      onclick: () => change('versioning', { status: settings.versioning === 'Enabled' ? 'Suspended' : 'Enabled' },
        settings.versioning === 'Enabled' ? 'Versioning suspended.' : 'Versioning enabled.'),
    }, settings.versioning === 'Enabled' ? 'Suspend versioning' : 'Enable versioning');
  const accessButton = settings.acl === 'private'
    ? h('button', {
      id: 'make-public',
      class: 'danger',
      disabled: settings.public_acls_blocked,
      title: settings.public_acls_blocked ? 'Block Public Access forbids public ACLs on this bucket' : undefined,
      onclick: () => { if (confirm(PUBLIC_WARNING)) change('acl', { acl: 'public-read' }, 'The bucket is public.'); },
    }, 'Make public…')
    : h('button', { id: 'make-private', onclick: () => change('acl', { acl: 'private' }, 'The bucket is private.') }, 'Make private');
  return h('div', { id: 'bucket-settings', class: 'settings' },
    settings.public ? h('p', { id: 'public-warning', class: 'warning' },
      '⚠ This bucket is public: anyone can list its keys without a key, and read the objects its policy or their own ACL makes public.') : null,
    h('p', {},
      h('span', { id: 'versioning-state' }, `Versioning: ${settings.versioning}`), ' ', versioningButton, ' · ',
      h('span', { id: 'access-state' }, `Access: ${settings.acl}`), ' ', accessButton));
}

// Uploads through an S3 POST form signed by the server with this session's key: the same
// request a static web page would send to let its visitors upload.
export function postUploadForm(bucket, prefix, onDone) {
  const file = h('input', { type: 'file', id: 'post-file', required: true });
  const progress = h('progress', { id: 'post-progress', max: 100, value: 0 });
  const status = h('span', { id: 'post-status', class: 'muted' });
  const form = h('form', { class: 'inline', id: 'post-upload-form' },
    h('label', {}, 'File (S3 POST form)', file), h('button', { type: 'submit' }, 'Upload by form'), progress, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    guarded(async () => {
      status.textContent = 'uploading…';
      const signed = await api('POST', `/v1/buckets/${enc(bucket)}/upload-form`, { key_prefix: prefix });
      const stored = await postForm(signed, chosen, (done, total) => {
        progress.value = total ? Math.round((100 * done) / total) : 100;
      });
      status.textContent = `uploaded ${stored.key}`;
      flash(`Uploaded ${stored.key} through a POST form.`, true);
      setTimeout(onDone, 400);
    }).finally(() => { if (status.textContent === 'uploading…') status.textContent = 'failed'; });
  });
  return form;
}

async function listVersions(bucket, prefix) {
  const versions = [];
  let markers = {};
  for (let page = 0; page < 50; page += 1) {
    const listing = await get(`/v1/buckets/${enc(bucket)}/versions?${new URLSearchParams({ prefix, ...markers })}`);
    versions.push(...listing.versions);
    if (!listing.next_key_marker) break;
    markers = { key_marker: listing.next_key_marker, version_marker: listing.next_version_marker || '' };
    if (!markers.version_marker) delete markers.version_marker;
  }
  return versions;
}

// Every version and delete marker under `prefix`, newest first per key, with a download link
// per version and a permanent delete (which Object Lock may refuse).
export async function versionsTable(bucket, prefix, rerender) {
  const versions = await listVersions(bucket, prefix);
  const base = `/v1/buckets/${enc(bucket)}/objects/`;
  const remove = (v) => h('button', { class: 'danger', onclick: () => guarded(async () => {
    if (!confirm(`Delete version ${v.version_id} of ${v.key} for good?`)) return;
    await api('DELETE', `${base}${keyPath(v.key)}?version_id=${enc(v.version_id)}`);
    rerender();
  }) }, 'Delete version');
  const rows = versions.map((v) => [
    v.delete_marker
      ? h('span', { class: 'muted' }, `${v.key.slice(prefix.length)} (delete marker)`)
      : h('a', { href: `${base}${keyPath(v.key)}?version_id=${enc(v.version_id)}`, class: 'version-link', download: v.key.split('/').pop() }, v.key.slice(prefix.length)),
    h('code', {}, v.version_id), v.is_latest ? 'latest' : '', num(v.delete_marker ? '—' : bytes(v.size)),
    when(v.last_modified_ms), remove(v)]);
  return h('div', { id: 'version-list' },
    table(['Key', 'Version', '', 'Size', 'Modified', ''], rows, 'No versions under this prefix.'));
}
