// SPDX-License-Identifier: MIT
// The web inbox (docs/web.md). Theory of operation:
//  - `state.messages` is the listing shown (the inbox, or the results of `state.query`), newest
//    first; "Load more" asks for the next page from `start = messages.length`.
//  - /api/events (Server-Sent Events) keeps it live: "new" inserts at the top, "delete",
//    "truncate" and "update" change rows in place, "stats" sets the counts and the title.
//  - The open message follows the URL fragment (#/m/ID), so Back works on a phone.
//  - Nothing from a message is ever parsed as HTML here: every string goes through
//    textContent or an attribute. The HTML body is shown only by the server's /view/ID.html in a
//    sandboxed <iframe> (index.html: no scripts, opaque origin).
import { authBadges, authLabel, renderAuthDetails } from './auth.js';

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 300;
const TABS = ['html', 'text', 'headers', 'raw', 'attachments'];

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

const state = {
  messages: [],        // summaries shown, newest first
  matches: 0,          // messages_count of the current search
  total: 0,            // every message
  unread: 0,
  query: '',
  listSeq: 0,          // drops list answers that arrive after a newer request
  viewSeq: 0,
  selectedId: null,
  openId: null,
  message: null,       // the open message (GET /api/v1/message/ID)
  tab: 'html',
  preferredTab: 'html',
  loaded: {},          // tabs of the open message already fetched (headers, raw)
  pushed: false,       // the open message added a history entry we can go back over
};

// ---- the API ---------------------------------------------------------------------------------
const apiError = (status, text) => Object.assign(new Error(text), { status });

async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw apiError(0, 'Cannot reach the server.');
  }
  const json = (res.headers.get('Content-Type') || '').includes('json');
  if (!res.ok) {
    let text = `${res.status} ${res.statusText}`.trim();
    if (json) {
      try {
        const answer = await res.json();
        if (answer && typeof answer.Error === 'string') text = `${answer.Error} (${res.status})`;
      } catch { /* keep the status line */ }
    }
    throw apiError(res.status, text);
  }
  return json ? res.json() : res.text();
}

function showError(err) {
  $('error-text').textContent = err instanceof Error ? err.message : String(err);
  $('error').hidden = false;
}

const clearError = () => { $('error').hidden = true; };

/** Wraps an action so that a failed request shows its error instead of throwing. */
const guarded = (fn) => async (...args) => {
  try {
    await fn(...args);
  } catch (err) {
    showError(err);
  }
};

// ---- formatting ------------------------------------------------------------------------------
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const yearFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

const validDate = (text) => { const d = new Date(text); return Number.isNaN(d.getTime()) ? null : d; };

/** "now", "12 min", "14:05" (today), "23 Nov" (this year), "23 Nov 2024". */
function shortDate(d, now = new Date()) {
  const seconds = (now - d) / 1000;
  if (seconds > -60 && seconds < 60) return 'now';
  if (seconds >= 60 && seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (d.toDateString() === now.toDateString()) return timeFormat.format(d);
  if (d.getFullYear() === now.getFullYear()) return dayFormat.format(d);
  return yearFormat.format(d);
}

function formatSize(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const formatAddress = (a) => (!a ? '' : a.Name && a.Address ? `${a.Name} <${a.Address}>` : a.Name || a.Address || '');
const formatAddresses = (list) => (list || []).map(formatAddress).filter(Boolean).join(', ');
const senderName = (m) => (m.From && (m.From.Name || m.From.Address)) || '(no sender)';

/** An element with a class and text; children may be nodes or strings (text, never HTML). */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) node.append(child);
  return node;
}

function paperclip() {
  const svg = (tag, attrs) => {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const icon = svg('svg', { viewBox: '0 0 24 24', class: 'clip', 'aria-hidden': 'true' });
  const d = 'M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9';
  icon.append(svg('path', { d }));
  return icon;
}

// ---- the list --------------------------------------------------------------------------------
const rows = () => [...$('list').querySelectorAll('.row')];
const rowById = (id) => $('list').querySelector(`.row[data-id="${CSS.escape(id)}"]`);
const focusedRowId = () => {
  const active = document.activeElement;
  return active?.classList.contains('row') ? active.dataset.id : null;
};
const listHidden = () => getComputedStyle($('list-pane')).display === 'none';

function rowLabel(m) {
  const parts = [m.Read ? '' : 'Unread.', `From ${senderName(m)}.`, m.Subject || '(no subject)'];
  if (m.Attachments > 0) parts.push('With attachments.');
  parts.push(authLabel(m.Auth));
  return parts.filter(Boolean).join(' ');
}

function makeRow(m) {
  const a = el('a', 'row');
  a.href = `#/m/${enc(m.ID)}`;
  a.dataset.id = m.ID;
  a.tabIndex = -1;
  a.classList.toggle('unread', !m.Read);
  a.setAttribute('aria-label', rowLabel(m));
  const from = el('span', 'from', senderName(m));
  if (m.From && m.From.Address) from.title = m.From.Address;
  const time = el('time', 'date');
  const created = validDate(m.Created);
  if (created) {
    time.dateTime = created.toISOString();
    time.title = fullFormat.format(created);
    time.textContent = shortDate(created);
  }
  const size = el('span', 'size', formatSize(m.Size));
  if (m.Attachments > 0) {
    size.prepend(paperclip());
    size.title = `${m.Attachments} attachment${m.Attachments === 1 ? '' : 's'}`;
  }
  a.append(el('span', 'dot'), from, time, el('span', 'subj', m.Subject || '(no subject)'), size,
           el('span', 'snip', m.Snippet || ''));
  const badges = authBadges(m.Auth);
  if (badges) a.append(badges);
  return el('li', '', a);
}

function setRead(m, read) {
  m.Read = read;
  const row = rowById(m.ID);
  if (row) {
    row.classList.toggle('unread', !read);
    row.setAttribute('aria-label', rowLabel(m));
  }
}

function renderList() {
  const focusedId = focusedRowId();
  $('list').replaceChildren(...state.messages.map(makeRow));
  select(state.selectedId && rowById(state.selectedId) ? state.selectedId : state.openId, { focus: false });
  if (focusedId && rowById(focusedId)) rowById(focusedId).focus();
  renderCounts();
}

function renderCounts() {
  const searching = state.query !== '';
  const shown = searching ? state.matches : state.total;
  $('list-heading').textContent = searching ? 'Search' : 'Inbox';
  $('count').textContent = searching
    ? `${shown} match${shown === 1 ? '' : 'es'}`
    : `${shown} message${shown === 1 ? '' : 's'}, ${state.unread} unread`;
  const empty = $('empty');
  empty.hidden = state.messages.length > 0;
  empty.textContent = searching
    ? `No message matches “${state.query}”.`
    : 'No messages yet. Send one to this server over SMTP and it shows up here.';
  const left = shown - state.messages.length;
  $('more').hidden = left <= 0 || state.messages.length === 0;
  $('more').textContent = `Load more (${left} more)`;
  document.title = state.unread > 0 ? `(${state.unread}) postern` : 'postern';
  $('mark-read').disabled = state.unread === 0;
  $('delete-all').disabled = state.total === 0;
}

async function loadList({ append = false } = {}) {
  const seq = ++state.listSeq;
  const start = append ? state.messages.length : 0;
  const query = state.query;
  const path = query
    ? `/api/v1/search?query=${enc(query)}&start=${start}&limit=${PAGE_SIZE}`
    : `/api/v1/messages?start=${start}&limit=${PAGE_SIZE}`;
  let data;
  try {
    data = await api('GET', path);
  } catch (err) {
    if (seq === state.listSeq) showError(err);
    return;
  }
  if (seq !== state.listSeq) return;
  clearError();
  const got = Array.isArray(data.messages) ? data.messages : [];
  if (append) {
    const have = new Set(state.messages.map((m) => m.ID));
    state.messages.push(...got.filter((m) => !have.has(m.ID)));
  } else {
    // Keep what arrived live while this request was on its way (after it started).
    const ids = new Set(got.map((m) => m.ID));
    const live = query ? [] : state.messages.filter((m) => m.liveSeq === seq && !ids.has(m.ID));
    state.messages = [...live, ...got];
  }
  state.matches = Number(data.messages_count) || 0;
  state.total = Number(data.total) || 0;
  state.unread = Number(data.unread) || 0;
  renderList();
}

function runSearch(text) {
  state.query = text.trim();
  state.messages = [];
  loadList();
}

// ---- selection and keyboard movement ---------------------------------------------------------
/** Marks one row selected and makes it the list's only tab stop (a roving tabindex). */
function select(id, { focus = false } = {}) {
  state.selectedId = id;
  const all = rows();
  let target = id ? rowById(id) : null;
  for (const row of all) {
    row.classList.toggle('selected', row === target);
    if (row === target) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');
    row.tabIndex = -1;
  }
  if (!target && all.length) target = all[0];
  if (target) {
    target.tabIndex = 0;
    if (focus) {
      target.focus();
      target.scrollIntoView({ block: 'nearest' });
    }
  }
}

function move(delta) {
  const all = rows();
  if (!all.length) return;
  const current = focusedRowId() || state.selectedId || state.openId;
  let i = all.findIndex((r) => r.dataset.id === current);
  i = i < 0 ? (delta > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, i + delta));
  const id = all[i].dataset.id;
  if (state.openId && state.openId !== id) {
    history.replaceState(null, '', `#/m/${enc(id)}`);
    openMessage(id);
  }
  select(id, { focus: !listHidden() || !state.openId });
}

// ---- live updates ----------------------------------------------------------------------------
function insertNew(m) {
  if (state.query !== '' || state.messages.some((x) => x.ID === m.ID)) return;
  m.liveSeq = state.listSeq;
  state.messages.unshift(m);
  const li = makeRow(m);
  li.firstChild.classList.add('fresh');
  $('list').prepend(li);
  if (!state.selectedId) select(null);
  renderCounts();
}

function removeLocally(ids) {
  const gone = new Set(ids);
  const all = rows();
  const focusedGone = gone.has(focusedRowId());
  const selectedIndex = all.findIndex((r) => r.dataset.id === state.selectedId);
  const before = state.messages.length;
  state.messages = state.messages.filter((m) => !gone.has(m.ID));
  if (state.query) state.matches = Math.max(0, state.matches - (before - state.messages.length));
  for (const row of all) if (gone.has(row.dataset.id)) row.parentElement.remove();
  if (state.openId && gone.has(state.openId)) closeView({ history: true });
  if (state.selectedId && gone.has(state.selectedId)) {
    const left = rows();
    const next = left[Math.min(Math.max(selectedIndex, 0), left.length - 1)];
    select(next ? next.dataset.id : null, { focus: focusedGone || document.activeElement === document.body });
  }
  renderCounts();
}

function clearLocally() {
  state.messages = [];
  state.matches = 0;
  if (state.openId) closeView({ history: true });
  state.selectedId = null;
  $('list').replaceChildren();
  renderCounts();
}

function applyRead(ids, read) {
  const only = ids && ids.length ? new Set(ids) : null;
  for (const m of state.messages) if (!only || only.has(m.ID)) setRead(m, read);
}

function handleEvent(ev) {
  const data = ev.Data;
  switch (ev.Type) {
    case 'new': if (data && data.ID) insertNew(data); break;
    case 'delete': if (data && Array.isArray(data.IDs)) removeLocally(data.IDs); break;
    case 'truncate': clearLocally(); break;
    case 'update': if (data) applyRead(data.IDs, data.Read !== false); break;
    case 'stats':
      if (!data) break;
      state.total = Number(data.Total) || 0;
      state.unread = Number(data.Unread) || 0;
      renderCounts();
      break;
    default: break;
  }
}

const live = { source: null, retries: 0, timer: 0, lost: false };

function setLive(on, text) {
  const dot = $('live');
  dot.classList.toggle('on', on);
  dot.classList.toggle('off', !on);
  dot.title = `Live updates: ${text}`;
  dot.setAttribute('aria-label', dot.title);
}

function connectEvents() {
  clearTimeout(live.timer);
  const source = new EventSource('/api/events');
  live.source = source;
  source.onopen = () => {
    setLive(true, 'connected');
    live.retries = 0;
    if (live.lost) {   // events may have been missed while away: fetch the listing again
      live.lost = false;
      loadList();
    }
  };
  source.onmessage = (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    if (ev && typeof ev === 'object') handleEvent(ev);
  };
  source.onerror = () => {
    live.lost = true;
    setLive(false, 'disconnected, reconnecting');
    // The browser retries by itself unless the server refused the stream (CLOSED): then we do.
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      const delay = Math.min(30000, 1000 * 2 ** live.retries++);
      live.timer = setTimeout(connectEvents, delay);
    }
  };
}

// ---- the message view ------------------------------------------------------------------------
function routeId() {
  const m = location.hash.match(/^#\/m\/(.+)$/);
  if (!m) return null;
  try { return decodeURIComponent(m[1]); } catch { return null; }
}

function route() {
  const id = routeId();
  if (id && id !== state.openId) openMessage(id);
  else if (!id && state.openId) closeView({ history: false });
}

const setText = (id, text) => { $(id).textContent = text; };

function resetView(summary) {
  setText('v-subject', summary ? summary.Subject || '(no subject)' : 'Loading…');
  for (const id of ['v-from', 'v-to', 'v-cc', 'v-date', 'v-text', 'v-raw']) setText(id, '');
  $('v-headers').replaceChildren();
  $('v-attachments').replaceChildren();
  $('v-auth').replaceChildren();
  renderAuthDetails($('v-auth-details'), null);
  $('html-frame').removeAttribute('src');
  state.loaded = {};
}

async function openMessage(id) {
  const seq = ++state.viewSeq;
  const summary = state.messages.find((m) => m.ID === id);
  state.openId = id;
  state.message = null;
  resetView(summary);
  document.body.classList.add('viewing');
  $('view-pane').hidden = false;
  $('view-pane').setAttribute('aria-busy', 'true');   // until renderMessage
  select(id);
  let msg;
  try {
    msg = await api('GET', `/api/v1/message/${enc(id)}`);
  } catch (err) {
    if (seq !== state.viewSeq) return;
    showError(err.status === 404 ? 'That message no longer exists.' : err);
    closeView({ history: true });
    return;
  }
  if (seq !== state.viewSeq) return;
  state.message = msg;
  if (summary && !summary.Read) setRead(summary, true);
  renderMessage(id, msg);
  if (listHidden()) $('v-subject').focus();
}

function renderMessage(id, msg) {
  $('view-pane').removeAttribute('aria-busy');
  setText('v-subject', msg.Subject || '(no subject)');
  setText('v-from', formatAddress(msg.From) || '(no sender)');
  setText('v-to', formatAddresses(msg.To) || '(none)');
  const cc = formatAddresses(msg.Cc);
  setText('v-cc', cc);
  for (const node of document.querySelectorAll('.v-cc')) node.hidden = !cc;
  const date = validDate(msg.Date);
  setText('v-date', date ? fullFormat.format(date) : '');
  const badges = authBadges(msg.Auth);
  $('v-auth').replaceChildren(badges || 'not checked');
  renderAuthDetails($('v-auth-details'), msg.Authentication);
  const text = (msg.Text || '').replace(/\r\n?/g, '\n');   // the API may keep the message's CRLF
  setText('v-text', text || (msg.HTML ? '(No plain-text part: see the HTML tab.)' : '(empty)'));
  $('raw-download').href = `/api/v1/message/${enc(id)}/raw?dl=1`;

  const parts = [...(msg.Attachments || []), ...(msg.Inline || []).map((p) => ({ ...p, inline: true }))];
  $('v-attachments').replaceChildren(...parts.map((p) => attachmentItem(id, p)));
  $('tab-attachments').textContent = `Attachments (${parts.length})`;
  $('tab-attachments').hidden = parts.length === 0;
  $('tab-html').hidden = !msg.HTML;
  $('remote-images').disabled = false;
  setText('remote-note', 'Remote images are blocked.');

  let tab = state.preferredTab;
  if ($(`tab-${tab}`).hidden) tab = msg.HTML ? 'html' : 'text';
  showTab(tab);
}

function attachmentItem(id, part) {
  const a = el('a', '', part.FileName || `part ${part.PartID}`);
  a.href = `/api/v1/message/${enc(id)}/part/${enc(part.PartID)}`;
  a.download = part.FileName || '';
  const about = [part.ContentType, formatSize(part.Size), part.inline ? 'inline' : ''].filter(Boolean).join(', ');
  return el('li', '', a, el('span', 'muted', about));
}

function showTab(name, { focus = false } = {}) {
  state.tab = name;
  for (const t of TABS) {
    const on = t === name;
    const tab = $(`tab-${t}`);
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${t}`).hidden = !on;
  }
  if (focus) $(`tab-${name}`).focus();
  const id = state.openId;
  if (!id || !state.message) return;
  if (name === 'html' && !$('html-frame').getAttribute('src')) {
    $('html-frame').src = `/view/${enc(id)}.html`;
  } else if ((name === 'headers' || name === 'raw') && !state.loaded[name]) {
    loadTab(id, name);
  }
}

/** Fetches what the Headers or Raw tab shows, once per message. */
async function loadTab(id, tab) {
  state.loaded[tab] = true;
  let answer;
  try {
    answer = await api('GET', `/api/v1/message/${enc(id)}/${tab}`);
  } catch (err) {
    state.loaded[tab] = false;
    if (id === state.openId) showError(err);
    return;
  }
  if (id !== state.openId) return;
  if (tab === 'raw') {
    $('v-raw').textContent = typeof answer === 'string' ? answer : JSON.stringify(answer);
    return;
  }
  const body = [];
  for (const [name, values] of Object.entries(answer || {})) {
    for (const value of Array.isArray(values) ? values : [values]) {
      const th = el('th', '', name);
      th.scope = 'row';
      body.push(el('tr', '', th, el('td', '', String(value))));
    }
  }
  $('v-headers').replaceChildren(...body);
}

function loadRemoteImages() {
  if (!state.openId) return;
  $('html-frame').src = `/view/${enc(state.openId)}.html?remote=1`;
  $('remote-images').disabled = true;
  setText('remote-note', 'Remote images are shown.');
}

function closeView({ history: leave }) {
  const id = state.openId;
  state.viewSeq++;
  state.openId = null;
  state.message = null;
  $('html-frame').removeAttribute('src');
  $('view-pane').hidden = true;
  $('view-pane').removeAttribute('aria-busy');
  document.body.classList.remove('viewing');
  if (leave && routeId()) {
    if (state.pushed) history.back();
    else history.replaceState(null, '', location.pathname + location.search);
  }
  state.pushed = false;
  if (id && rowById(id)) select(id, { focus: true });
}

// ---- actions ---------------------------------------------------------------------------------
const deleteMessage = guarded(async (id) => {
  await api('DELETE', '/api/v1/messages', { IDs: [id] });
  removeLocally([id]);
});

const deleteAll = guarded(async () => {
  const n = state.total;
  if (!window.confirm(`Delete all ${n} message${n === 1 ? '' : 's'}? This cannot be undone.`)) return;
  await api('DELETE', '/api/v1/messages');
  clearLocally();
});

const markAllRead = guarded(async () => {
  await api('PUT', '/api/v1/messages', { Read: true });
  applyRead([], true);
});

// ---- wiring ----------------------------------------------------------------------------------
function onKeyDown(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target;
  if (target.closest && target.closest('input, textarea, select, [contenteditable]')) {
    if (target.id === 'search' && e.key === 'ArrowDown') {
      e.preventDefault();
      select(state.selectedId, { focus: true });
    }
    return;
  }
  const onRow = target.classList && target.classList.contains('row');
  const deleting = e.key === 'Delete' && (onRow ? target.dataset.id : state.openId || state.selectedId);
  if (e.key === '/') {
    $('search').focus();
    $('search').select();
  } else if (e.key === 'j' || e.key === 'k') {
    move(e.key === 'j' ? 1 : -1);
  } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && (onRow || target === document.body)) {
    move(e.key === 'ArrowDown' ? 1 : -1);   // elsewhere (a scrolled <pre>) arrows scroll
  } else if (e.key === 'Escape' && state.openId) {
    closeView({ history: true });
  } else if (deleting) {
    deleteMessage(deleting);
  } else {
    return;
  }
  e.preventDefault();
}

function onTabKey(e) {
  const order = TABS.filter((t) => !$(`tab-${t}`).hidden);
  let i = order.indexOf(state.tab);
  if (e.key === 'ArrowRight') i = (i + 1) % order.length;
  else if (e.key === 'ArrowLeft') i = (i - 1 + order.length) % order.length;
  else if (e.key === 'Home') i = 0;
  else if (e.key === 'End') i = order.length - 1;
  else return;
  e.preventDefault();
  state.preferredTab = order[i];
  showTab(order[i], { focus: true });
}

function wire() {
  let searchTimer = 0;
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => runSearch($('search').value), SEARCH_DELAY_MS);
  });
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(searchTimer);
    runSearch($('search').value);
  });
  $('list').addEventListener('click', (e) => {
    const row = e.target.closest('.row');
    if (!row) return;
    select(row.dataset.id);
    state.pushed = !state.openId;   // a click from the list pushes; moving between messages replaces
    if (state.openId) {
      e.preventDefault();
      history.replaceState(null, '', row.getAttribute('href'));
      if (row.dataset.id !== state.openId) openMessage(row.dataset.id);
    }
  });
  $('list').addEventListener('focusin', () => focusedRowId() && select(focusedRowId()));
  $('more').addEventListener('click', () => loadList({ append: true }));
  $('back').addEventListener('click', () => closeView({ history: true }));
  $('delete-one').addEventListener('click', () => state.openId && deleteMessage(state.openId));
  $('delete-all').addEventListener('click', deleteAll);
  $('mark-read').addEventListener('click', markAllRead);
  $('remote-images').addEventListener('click', loadRemoteImages);
  $('error-close').addEventListener('click', clearError);
  const tablist = document.querySelector('[role="tablist"]');
  tablist.addEventListener('click', (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (!tab) return;
    state.preferredTab = tab.dataset.tab;
    showTab(tab.dataset.tab);
  });
  tablist.addEventListener('keydown', onTabKey);
  document.addEventListener('keydown', onKeyDown);
  window.addEventListener('hashchange', route);
  // Dates like "12 min" age: refresh them once a minute.
  setInterval(() => {
    for (const t of $('list').querySelectorAll('time[datetime]')) t.textContent = shortDate(new Date(t.dateTime));
  }, 60000);
}

wire();
connectEvents();
loadList().then(route);
