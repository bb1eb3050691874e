// The console's shell: checks the session, draws the navigation, and routes `#/page/arg?query`
// to one page module. A page's render() may return a cleanup function (stop polling, say),
// called when the user leaves the page.

import { api, setSession, session } from './api.js';
import { clear, flash, guarded, h } from './dom.js';
import * as signin from './pages/signin.js';
import * as overview from './pages/overview.js';
import * as buckets from './pages/buckets.js';
import * as functions from './pages/functions.js';
import * as functionDetail from './pages/function_detail.js';
import * as apps from './pages/apps.js';
import * as messaging from './pages/messaging.js';
import * as planner from './pages/planner.js';
import * as cost from './pages/cost.js';
import * as admin from './pages/admin.js';

const pages = { overview, buckets, functions, apps, messaging, planner, cost, admin };
let cleanup = null;

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const [page, ...rest] = path.split('/');
  return { page: page || 'overview', arg: rest.map(decodeURIComponent).join('/'), query: new URLSearchParams(query) };
}

function showChrome(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('signout').hidden = !signedIn;
  const admin = document.getElementById('nav-admin');
  admin.hidden = !(signedIn && (session.operator || session.role === 'admin'));
  document.getElementById('who').textContent = signedIn
    ? `${session.access_key_id} · project ${session.project} · ${session.role}${session.operator ? ' (operator)' : ''}`
    : '';
}

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const view = document.getElementById('view');
  if (!session) {
    showChrome(false);
    signin.render(view, { onSignedIn: (s) => { setSession(s); location.hash = '#/overview'; route(); } });
    return;
  }
  showChrome(true);
  const { page, arg, query } = parseHash();
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.getAttribute('href') === `#/${page}`);
  }
  let module = pages[page];
  if (page === 'functions' && arg) module = functionDetail;
  if (!module) {
    clear(view, h('h1', {}, 'Not found'), h('p', {}, `There is no page “${page}”.`));
    return;
  }
  clear(view, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const result = await module.render(view, { arg, query });
    if (typeof result === 'function') cleanup = result;
  } catch (err) {
    if (err.status === 401) { setSession(null); route(); return; }
    clear(view, h('h1', {}, 'Could not load this page'), h('p', { class: 'error' }, err.message));
  }
}

async function signOut() {
  await guarded(async () => {
    await api('DELETE', '/console/api/session');
    setSession(null);
    location.hash = '';
    flash('Signed out.', true);
    route();
  });
}

async function start() {
  document.getElementById('signout').addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  try {
    setSession(await api('GET', '/console/api/session'));
  } catch (_) {
    setSession(null);
  }
  route();
}

start();
