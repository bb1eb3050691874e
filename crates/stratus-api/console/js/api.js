// The console's one way to call the server: same-origin requests carrying the session cookie,
// with the session's CSRF token on every state-changing request, and RFC 9457 problem documents
// turned into Error messages.

let csrfToken = '';
export let session = null;

export function setSession(value) {
  session = value;
  csrfToken = value ? value.csrf_token : '';
}

async function problemMessage(response) {
  const text = await response.text();
  try {
    const doc = JSON.parse(text);
    if (doc.detail || doc.title) return `${doc.title || 'error'}: ${doc.detail || ''} (HTTP ${response.status})`;
  } catch (_) { /* not JSON */ }
  return `HTTP ${response.status}: ${text.slice(0, 200) || response.statusText}`;
}

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// fetch() with the CSRF header and problem handling; returns the Response.
export async function raw(method, path, { body, headers = {} } = {}) {
  const all = { ...headers };
  if (method !== 'GET' && method !== 'HEAD') all['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, { method, body, headers: all, credentials: 'same-origin' });
  if (!response.ok) throw new ApiError(await problemMessage(response), response.status);
  return response;
}

// A JSON call: `body` (if any) is sent as JSON; the answer is parsed when there is one.
export async function api(method, path, body) {
  const init = body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
  const response = await raw(method, path, init);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path) => api('GET', path);

// PUT a file with upload progress (fetch has no upload progress; XMLHttpRequest does).
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    if (file.type) xhr.setRequestHeader('Content-Type', file.type);
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
      } else {
        let message = `HTTP ${xhr.status}`;
        try { const doc = JSON.parse(xhr.responseText); message = `${doc.title}: ${doc.detail} (HTTP ${xhr.status})`; } catch (_) { /* keep */ }
        reject(new ApiError(message, xhr.status));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError('network error during upload', 0)));
    xhr.send(file);
  });
}

// Path segments of object keys are encoded one by one so '/' stays a separator.
export function keyPath(key) {
  return key.split('/').map(encodeURIComponent).join('/');
}

// An S3 POST Object upload (the form from /v1/buckets/B/upload-form) with progress: the form's
// fields, then the file last, as S3 requires. The answer is S3's XML; an error's <Message> is
// the Error's message.
export function postForm(form, file, onProgress) {
  return new Promise((resolve, reject) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(form.fields)) data.append(name, value);
    data.append('Content-Type', file.type || 'application/octet-stream');
    data.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.url);
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); });
    xhr.addEventListener('load', () => {
      const xml = new DOMParser().parseFromString(xhr.responseText || '<x/>', 'application/xml');
      const text = (tag) => xml.getElementsByTagName(tag)[0]?.textContent || '';
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve({ key: text('Key'), etag: text('ETag') });
      } else {
        reject(new ApiError(`${text('Code') || 'HTTP'}: ${text('Message') || xhr.statusText} (HTTP ${xhr.status})`, xhr.status));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError('network error during upload', 0)));
    xhr.send(data);
  });
}
