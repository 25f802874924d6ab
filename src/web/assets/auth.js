// SPDX-License-Identifier: MIT
// SPF, DKIM and DMARC results on the page (docs/web.md): the badges of a list row and of the
// message view, and the view's summary sentence and table. Every string from the server goes
// through textContent (el() below); a badge says its result in words, its colour only repeats
// it (WCAG 1.4.1: colour is not the only visual means of conveying information).

const GOOD = new Set(['pass']);
const BAD = new Set(['fail', 'softfail', 'permerror']);

/** "pass" -> "good", "fail"/"softfail"/"permerror" -> "bad", anything else -> "neutral". */
export const tone = (word) => (GOOD.has(word) ? 'good' : BAD.has(word) ? 'bad' : 'neutral');

function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) node.append(child);
  return node;
}

const word = (w) => (typeof w === 'string' && w !== '' ? w.toLowerCase() : 'none');

function badge(method, result) {
  const w = word(result);
  const label = method ? [el('span', 'badge-method', method), ' '] : [];
  const b = el('span', `badge ${tone(w)}`, ...label, el('span', 'badge-result', w));
  if (method) b.dataset.method = method.toLowerCase();
  b.dataset.result = w;
  b.title = method ? `${method}: ${w}` : w;
  return b;
}

/** The message summary's Auth ({SPF, DKIM, DMARC, Aligned}) as three badges, or null. */
export function authBadges(auth) {
  if (!auth || typeof auth !== 'object') return null;
  const group = el('span', 'badges', badge('SPF', auth.SPF), badge('DKIM', auth.DKIM), badge('DMARC', auth.DMARC));
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', authLabel(auth));
  return group;
}

/** "SPF pass, DKIM none, DMARC pass." for a screen reader's row label; "" when none. */
export function authLabel(auth) {
  if (!auth || typeof auth !== 'object') return '';
  return `SPF ${word(auth.SPF)}, DKIM ${word(auth.DKIM)}, DMARC ${word(auth.DMARC)}.`;
}

const str = (v) => (typeof v === 'string' ? v : '');

function resultCell(result, extra) {
  const td = el('td', '', badge('', result));
  if (extra) td.append(' ', el('span', 'muted', extra));
  return td;
}

function tableRow(what, domain, result, extra) {
  const th = el('th', '', what);
  th.scope = 'row';
  return el('tr', '', th, el('td', 'domain', domain || '(none)'), resultCell(result, extra));
}

/**
 * Fills the message view's verdict section from the message's Authentication (the verdict JSON
 * as stored) and Auth: the summary sentence, and a table of the envelope sender domain (SPF),
 * the From domain (DMARC) and each DKIM signature's d= domain with its result.
 */
export function renderAuthDetails(section, verdict) {
  const summary = section.querySelector('.auth-summary');
  const body = section.querySelector('tbody');
  if (!verdict || typeof verdict !== 'object') {
    section.hidden = true;
    summary.textContent = '';
    body.replaceChildren();
    return;
  }
  section.hidden = false;
  summary.textContent = str(verdict.summary) ||
    (verdict.rebuilt ? 'Read back from the Authentication-Results header field (no summary kept).' : '');
  summary.hidden = summary.textContent === '';
  const spf = verdict.spf || {};
  const dmarc = verdict.dmarc || {};
  const rows = [tableRow('Envelope sender (SPF)', str(spf.domain), spf.result)];
  const aligned = verdict.aligned === true ? 'aligned with From' : verdict.aligned === false ? 'not aligned' : '';
  const policy = str(dmarc.policy) && str(dmarc.policy) !== 'none' ? `policy ${dmarc.policy}` : '';
  rows.push(tableRow('From (DMARC)', str(dmarc.from_domain), dmarc.result, [aligned, policy].filter(Boolean).join(', ')));
  const sigs = Array.isArray(verdict.dkim) ? verdict.dkim : [];
  if (sigs.length === 0) rows.push(tableRow('DKIM signature', '', 'none', 'not signed'));
  for (const sig of sigs) {
    const selector = str(sig.selector) ? `s=${sig.selector}` : '';
    rows.push(tableRow('DKIM signature (d=)', str(sig.domain), sig.result, selector));
  }
  body.replaceChildren(...rows);
}
