// distillguard case review: the queue of cases and one case's page, rendered from JSON.
//
// Two modes, one renderer: `live` (served by `distillguard serve` at /ui: data from /v1/cases and
// /v1/case, actions POSTed to /v1/actions with the session's CSRF token) and `static` (the page
// `scan --html` writes: data embedded in <script id="dg-data">, no actions).
//
// Safety: every piece of data (ids, agents, prompts, notes) reaches the page through
// textContent / text nodes or attribute values, never innerHTML, and links are built from
// encodeURIComponent'd hash routes; the live pages also carry a script-src 'self' CSP.
// Charts: uPlot (time series: small, fast, canvas); graph: Cytoscape.js (canvas, layouts).
import uPlot from 'uplot';
import cytoscape from 'cytoscape';
import 'uplot/dist/uPlot.min.css';
import './app.css';

const root = document.getElementById('app');
const MODE = root.dataset.mode === 'static' ? 'static' : 'live';
let SESSION = { user: '', csrf: '', shadow: false };
let STATIC = null;
let QUEUE = null;
const FILTERS = { kind: 'all', level: 'all', detector: 'all', age: 'any', status: 'open', sort: 'score', q: '' };
const charts = [];
let FLASH = '';  // the last action's outcome, shown once after the case page reloads

// ---------------------------------------------------------------------------------------------
// DOM helpers: text only.

function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const fmtInt = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US'));
function fmtTokens(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(2) + 'B';
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return fmtInt(n);
}
function fmtAge(iso, now) {
  if (!iso) return '–';
  const s = (Date.parse(now) - Date.parse(iso)) / 1000;
  if (!isFinite(s)) return '–';
  if (s < 0) return 'just now';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400 * 2) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}
const fmtTime = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '–');
const KIND_LABEL = { cluster: 'Cluster', account: 'Account', end_user: 'End user', api_key: 'API key' };
const LEVELS = ['critical', 'high', 'medium', 'low', 'none', 'flagged'];

function badge(text, cls) {
  return el('span', { class: 'badge ' + (cls || '') }, text);
}
function levelBadge(level) {
  return badge(level, 'lvl-' + level);
}
function scoreBar(score) {
  const pct = Math.max(0, Math.min(1, score)) * 100;
  const bar = el('span', { class: 'scorebar' }, el('span', { class: 'fill' }));
  bar.firstChild.style.width = pct.toFixed(1) + '%';
  return el('span', { class: 'score' }, bar, el('span', { class: 'num' }, score.toFixed(2)));
}

function caseHash(kind, scope, id) {
  return '#/case/' + [kind, scope || '-', id].map(encodeURIComponent).join('/');
}

// ---------------------------------------------------------------------------------------------
// Data.

async function api(path, options) {
  const opts = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
  const r = await fetch(path, opts);
  if (r.status === 401) {
    location.href = '/ui/';
    throw new Error('signed out');
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || 'HTTP ' + r.status);
  return body;
}

async function loadQueue() {
  if (MODE === 'static') return STATIC.queue;
  return api('/v1/cases');
}

async function loadCase(kind, scope, id) {
  if (MODE === 'static') {
    const c = STATIC.cases[kind + '|' + (scope || '') + '|' + id];
    if (!c) throw new Error('case not in this report');
    return c;
  }
  const q = new URLSearchParams({ kind, id, scope: scope || '' });
  return api('/v1/case?' + q.toString());
}

async function act(kind, scope, target, action, note) {
  return api('/v1/actions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': SESSION.csrf },
    body: JSON.stringify({ kind, scope: scope || '', target, action, note: note || '' }),
  });
}

// ---------------------------------------------------------------------------------------------
// Layout.

function header() {
  const right = [];
  if (MODE === 'live') {
    if (SESSION.shadow) right.push(badge('shadow mode: nothing enforced', 'shadow'));
    right.push(el('span', { class: 'user', 'data-testid': 'user' }, SESSION.user));
    right.push(
      el('button', {
        class: 'ghost',
        id: 'logout',
        onclick: async () => {
          await fetch('/ui/logout', { method: 'POST', headers: { 'x-csrf-token': SESSION.csrf } });
          location.href = '/ui/';
        },
      }, 'Sign out'),
    );
  } else {
    right.push(badge('static report', 'static'));
  }
  return el('header', { class: 'top' },
    el('a', { class: 'brand', href: '#/' }, el('span', { class: 'logo' }, '◆'), ' distillguard'),
    el('nav', {}, el('a', { href: '#/' }, 'Cases'), MODE === 'live' ? el('a', { href: '#/audit' }, 'Audit log') : null),
    el('div', { class: 'right' }, right),
  );
}

function page(...content) {
  for (const c of charts.splice(0)) c.destroy();
  clear(root);
  root.append(header(), el('main', {}, content));
}

function errorBox(msg) {
  return el('div', { class: 'error', role: 'alert' }, msg);
}

// ---------------------------------------------------------------------------------------------
// Queue.

const dataNow = (q) => q.data_time || q.generated_at;
function ageOk(c, now) {
  if (FILTERS.age === 'any') return true;
  if (!c.first_flagged_at) return false;
  const s = (Date.parse(now) - Date.parse(c.first_flagged_at)) / 1000;
  return s <= { '1h': 3600, '24h': 86400, '7d': 7 * 86400 }[FILTERS.age];
}

function filtered(queue) {
  const q = FILTERS.q.trim().toLowerCase();
  const rows = queue.cases.filter((c) =>
    (FILTERS.kind === 'all' || c.kind === FILTERS.kind) &&
    (FILTERS.level === 'all' || c.level === FILTERS.level) &&
    (FILTERS.detector === 'all' || c.detectors.includes(FILTERS.detector)) &&
    (FILTERS.status === 'all' || c.status === FILTERS.status) &&
    (!q || c.id.toLowerCase().includes(q) || c.scope.toLowerCase().includes(q)) &&
    ageOk(c, dataNow(queue)));
  const key = FILTERS.sort === 'output' ? (c) => c.output_tokens : (c) => c.score;
  rows.sort((a, b) => key(b) - key(a) || b.output_tokens - a.output_tokens);
  return rows;
}

function select(name, label, options) {
  const s = el('select', {
    'data-filter': name,
    onchange: (e) => {
      FILTERS[name] = e.target.value;
      renderQueueBody();
    },
  });
  for (const [v, t] of options) {
    const o = el('option', { value: v }, t);
    if (FILTERS[name] === v) o.selected = true;
    s.append(o);
  }
  return el('label', { class: 'filter' }, el('span', {}, label), s);
}

function tile(label, value, sub, testid) {
  return el('div', { class: 'tile', 'data-testid': testid }, el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, value), sub ? el('div', { class: 'sub' }, sub) : null);
}

let queueBody = null;
function renderQueueBody() {
  clear(queueBody);
  const rows = filtered(QUEUE);
  const table = el('table', { class: 'grid queue', 'data-testid': 'queue' },
    el('thead', {}, el('tr', {},
      ['Case', 'Score', 'Level', 'Accounts', 'Requests', 'Output tokens', 'Detectors', 'Flagged', 'Status',
        QUEUE.shadow ? 'Would have (decisions)' : 'Decisions taken'].map((h) => el('th', {}, h)))));
  const tb = el('tbody');
  for (const c of rows) {
    const would = c.would || {};
    const wouldCell = [];
    for (const a of ['block', 'throttle', 'degrade']) {
      if (would[a]) wouldCell.push(el('span', { class: 'would w-' + a }, a + ' ' + fmtInt(would[a])));
    }
    const tr = el('tr', {
      class: 'clickable',
      'data-testid': 'case-row',
      'data-kind': c.kind,
      'data-id': c.id,
      onclick: () => { location.hash = caseHash(c.kind, c.scope, c.id); },
    },
      el('td', { class: 'case' }, badge(KIND_LABEL[c.kind] || c.kind, 'kind'),
        el('a', { href: caseHash(c.kind, c.scope, c.id), class: 'caseid' }, c.id),
        c.scope ? el('div', { class: 'muted small' }, 'in ' + c.scope) : null),
      el('td', {}, scoreBar(c.score)),
      el('td', {}, levelBadge(c.level)),
      el('td', { class: 'num' }, fmtInt(c.accounts)),
      el('td', { class: 'num' }, fmtInt(c.requests)),
      el('td', { class: 'num' }, fmtTokens(c.output_tokens)),
      el('td', {}, c.detectors.map((d) => badge(d, 'det'))),
      el('td', { title: fmtTime(c.first_flagged_at) }, fmtAge(c.first_flagged_at, dataNow(QUEUE))),
      el('td', {}, badge(c.status, 'st-' + c.status), c.override !== 'none' ? badge(c.override, 'ov-' + c.override) : null),
      el('td', {}, wouldCell.length ? wouldCell : el('span', { class: 'muted' }, '–')),
    );
    tb.append(tr);
  }
  table.append(tb);
  queueBody.append(
    el('div', { class: 'count muted' }, `${rows.length} of ${QUEUE.cases.length} cases`),
    rows.length ? table : el('div', { class: 'empty' }, 'No case matches these filters.'),
  );
}

async function showQueue() {
  page(el('div', { class: 'loading' }, 'Loading cases…'));
  try {
    QUEUE = await loadQueue();
  } catch (e) {
    page(errorBox('Could not load the cases: ' + e.message));
    return;
  }
  const detectors = [...new Set(QUEUE.cases.flatMap((c) => c.detectors))].sort();
  const open = QUEUE.cases.filter((c) => c.status === 'open');
  const out = open.reduce((s, c) => s + c.output_tokens, 0);
  const accounts = QUEUE.cases.reduce((s, c) => s + (c.kind === 'cluster' || c.kind === 'account' ? c.accounts : 0), 0);
  const would = QUEUE.cases.reduce((s, c) => s + (c.would ? c.would.block + c.would.throttle + c.would.degrade : 0), 0);
  queueBody = el('div', { class: 'queue-body' });
  page(
    el('div', { class: 'titlebar' }, el('h1', {}, 'Cases'),
      el('span', { class: 'muted' }, (MODE === 'live' ? 'live' : 'scan report') + ' · traffic up to ' + fmtTime(dataNow(QUEUE)) +
        ' · generated ' + fmtTime(QUEUE.generated_at))),
    el('div', { class: 'tiles' },
      tile('Open cases', fmtInt(open.length), `${fmtInt(QUEUE.cases.length)} in all`, 'tile-open'),
      tile('Accounts in cases', fmtInt(accounts), `of ${fmtInt(QUEUE.accounts_seen)} seen`, 'tile-accounts'),
      tile('Output taken by open cases', fmtTokens(out), 'tokens', 'tile-output'),
      tile(QUEUE.shadow ? 'Would have contained' : 'Contained decisions', fmtInt(would),
        QUEUE.shadow ? 'shadow mode: decisions not enforced' : 'block / throttle / degrade', 'tile-would')),
    el('div', { class: 'filters' },
      select('kind', 'Kind', [['all', 'All'], ['cluster', 'Clusters'], ['account', 'Accounts'], ['end_user', 'End users'], ['api_key', 'API keys']]),
      select('level', 'Level', [['all', 'All'], ...LEVELS.map((l) => [l, l])]),
      select('detector', 'Detector', [['all', 'All'], ...detectors.map((d) => [d, d])]),
      select('age', 'Flagged', [['any', 'Any time'], ['1h', 'Last hour'], ['24h', 'Last 24 h'], ['7d', 'Last 7 days']]),
      select('status', 'Status', [['open', 'Open'], ['confirmed', 'Confirmed'], ['dismissed', 'Dismissed'], ['all', 'All']]),
      select('sort', 'Sort by', [['score', 'Score'], ['output', 'Output taken']]),
      el('label', { class: 'filter grow' }, el('span', {}, 'Search'),
        el('input', { type: 'search', placeholder: 'account, cluster or end-user id', value: FILTERS.q,
          oninput: (e) => { FILTERS.q = e.target.value; renderQueueBody(); } }))),
    queueBody,
  );
  renderQueueBody();
}

// ---------------------------------------------------------------------------------------------
// Case page.

const PALETTE = ['#d9480f', '#1c7ed6', '#2b8a3e', '#ae3ec9', '#f59f00', '#0ca678'];

function flagLinePlugin(flagTimes) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        for (const t of flagTimes) {
          if (t < u.scales.x.min || t > u.scales.x.max) continue;
          const x = Math.round(u.valToPos(t, 'x', true));
          ctx.strokeStyle = '#c92a2a';
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = '#c92a2a';
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.fillText('flagged', x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
        }
        ctx.restore();
      }],
    },
  };
}

function plot(container, title, testid, series, data, flagTimes, opts) {
  const box = el('div', { class: 'chart', 'data-testid': testid }, el('h3', {}, title));
  container.append(box);
  const width = Math.max(300, Math.floor(box.clientWidth || 420));
  const u = new uPlot({
    width,
    height: 200,
    series: [{}, ...series],
    axes: [{ stroke: '#555' }, { stroke: '#555', size: 60, values: (u, v) => v.map((x) => (x == null ? '' : opts && opts.fraction ? x.toFixed(2) : fmtTokens(x))) }],
    scales: opts && opts.fraction ? { y: { range: [0, 1] } } : {},
    legend: { live: true },
    plugins: [flagLinePlugin(flagTimes)],
  }, data, box);
  charts.push(u);
}

function renderSeries(container, c) {
  const s = c.series;
  if (!s || !s.t || !s.t.length) {
    container.append(el('div', { class: 'empty' }, 'No hourly activity recorded for this case.'));
    return;
  }
  const flagTimes = [];
  if (c.first_flagged_s > 0) flagTimes.push(c.first_flagged_s);
  const accSeries = (key) => s.accounts.map((a, i) => ({ label: a.account_id, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: false } }));
  const peer = { label: 'peer median', stroke: '#868e96', width: 2, dash: [8, 4], points: { show: false } };
  const grid = el('div', { class: 'charts' });
  container.append(grid);
  plot(grid, 'Requests per hour', 'plot-requests', [...accSeries(), peer],
    [s.t, ...s.accounts.map((a) => a.requests), s.peer_requests], flagTimes);
  plot(grid, 'Output tokens per hour', 'plot-output', [...accSeries(), peer],
    [s.t, ...s.accounts.map((a) => a.output), s.peer_output], flagTimes);
  plot(grid, 'Score (latest, per hour)', 'plot-score', accSeries(),
    [s.t, ...s.accounts.map((a) => a.score)], flagTimes, { fraction: true });
}

const NODE_COLORS = { account: '#1c7ed6', payment: '#e8590c', email: '#f08c00', network: '#2b8a3e', client: '#5f3dc4', agent: '#0b7285', template: '#c2255c' };

function renderGraph(container, c) {
  const g = c.graph;
  if (!g || !g.nodes.length) return;
  const box = el('div', { class: 'graph', 'data-testid': 'graph' });
  const legend = el('div', { class: 'legend' }, Object.entries(NODE_COLORS).map(([k, col]) => {
    const dot = el('span', { class: 'dot' });
    dot.style.background = col;
    return el('span', {}, dot, k);
  }));
  const inds = g.nodes.filter((n) => n.type !== 'account');
  const list = el('div', { class: 'indicators', 'data-testid': 'indicators' },
    inds.length ? inds.map((n) => el('div', { class: 'ind' }, badge(n.type, 'ind-' + n.type), el('span', { class: 'v' }, n.label),
      n.shared_by > 1 ? el('span', { class: 'muted small' }, ` shared by ${n.shared_by}`) : null))
      : el('div', { class: 'muted small' }, 'No shared indicator.'));
  container.append(legend, box, list);
  const elements = [];
  for (const n of g.nodes) {
    const label = n.label.length > 28 ? n.label.slice(0, 27) + '…' : n.label;
    elements.push({ data: { id: n.id, label, type: n.type, flagged: n.flagged ? 1 : 0 } });
  }
  for (const e of g.edges) elements.push({ data: { source: e.source, target: e.target } });
  const cy = cytoscape({
    container: box,
    elements,
    // One account: its indicators around it; several: a force layout groups what they share.
    layout: g.nodes.filter((n) => n.type === 'account').length > 1
      ? { name: 'cose', animate: false, randomize: false, nodeRepulsion: 8000, idealEdgeLength: 80, padding: 24 }
      : { name: 'concentric', concentric: (n) => (n.data('type') === 'account' ? 2 : 1), levelWidth: () => 1, minNodeSpacing: 40, padding: 24 },
    style: [
      { selector: 'node', style: { 'background-color': (n) => NODE_COLORS[n.data('type')] || '#888', label: 'data(label)', 'font-size': 9, color: '#222', 'text-valign': 'bottom', 'text-margin-y': 3, width: 14, height: 14 } },
      { selector: 'node[type = "account"]', style: { shape: 'ellipse', width: 18, height: 18 } },
      { selector: 'node[type = "account"][flagged = 1]', style: { 'border-width': 3, 'border-color': '#c92a2a' } },
      { selector: 'node[type != "account"]', style: { shape: 'round-rectangle' } },
      { selector: 'edge', style: { width: 1, 'line-color': '#ced4da' } },
    ],
    wheelSensitivity: 0.3,
  });
  charts.push({ destroy: () => cy.destroy() });
}

function table(cls, testid, headers, rows) {
  return el('table', { class: 'grid ' + cls, 'data-testid': testid },
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

function section(title, testid, ...content) {
  return el('section', { class: 'card', 'data-testid': testid }, el('h2', {}, title), content);
}

function actionPanel(c, reload) {
  if (MODE !== 'live') return null;
  const note = el('textarea', { id: 'note', placeholder: 'Why? (goes to the audit log)', maxlength: 4000, rows: 2 });
  const msg = el('div', { class: 'msg', 'data-testid': 'action-msg', role: 'status' }, FLASH);
  FLASH = '';
  const doAct = async (action) => {
    try {
      msg.textContent = '…';
      const r = await act(c.kind, c.scope, c.id, action, note.value);
      FLASH = `Recorded #${r.action.id}: ${action} by ${r.action.who}.`;
      await reload();
    } catch (e) {
      msg.textContent = 'Failed: ' + e.message;
    }
  };
  const b = (action, label, cls, disabled) => el('button', { class: cls, 'data-action': action, disabled: disabled ? 'disabled' : null, onclick: () => doAct(action) }, label);
  return el('div', { class: 'actions card', 'data-testid': 'actions' },
    el('div', { class: 'state' }, 'Status ', badge(c.status, 'st-' + c.status), ' Override ',
      badge(c.override, 'ov-' + c.override)),
    note,
    el('div', { class: 'buttons' },
      b('confirm', 'Confirm', 'primary', c.status === 'confirmed'),
      b('dismiss', 'Dismiss', '', c.status === 'dismissed'),
      b('reopen', 'Reopen', 'ghost', c.status === 'open'),
      el('span', { class: 'sep' }),
      b('block', 'Block', 'danger', c.override === 'block'),
      b('allow', 'Allow', '', c.override === 'allow'),
      b('clear', 'Undo override', 'ghost', c.override === 'none')),
    msg);
}

async function showCase(kind, scope, id) {
  page(el('div', { class: 'loading' }, 'Loading case…'));
  let c;
  try {
    c = await loadCase(kind, scope, id);
  } catch (e) {
    page(el('a', { href: '#/', class: 'back' }, '← Cases'), errorBox('Could not load the case: ' + e.message));
    return;
  }
  const reload = () => showCase(kind, scope, id);
  const would = c.would || {};
  const plots = el('div', { class: 'plots' });
  const graph = el('div', {});
  const members = (c.members || []).map((m) => el('tr', {},
    el('td', {}, el('a', { href: caseHash('account', '', m.account_id), class: 'caseid' }, m.account_id)),
    el('td', {}, scoreBar(m.score)),
    el('td', {}, levelBadge(m.level)),
    el('td', {}, fmtTime(m.first_flagged_at)),
    el('td', { class: 'num' }, fmtInt(m.requests)),
    el('td', { class: 'num' }, fmtTokens(m.output_tokens)),
    el('td', {}, m.override !== 'none' ? badge(m.override, 'ov-' + m.override) : '–'),
    el('td', { class: 'small' }, (m.evidence || []).filter((e) => e.weight > 0).slice(0, 2).map((e) => el('div', {}, e.detector + ': ' + e.detail)))));
  const evidence = (c.evidence || []).map((e) => el('tr', {},
    el('td', {}, badge(e.detector, 'det')), el('td', {}, e.family),
    el('td', { class: 'num' }, e.weight.toFixed(2)), el('td', { class: 'num' }, e.strength.toFixed(2)),
    el('td', { class: 'detail' }, e.detail)));
  const templates = (c.templates || []).map((t) => el('div', { class: 'template' },
    el('div', { class: 'thead' }, badge('template ' + t.template.slice(0, 8), 'det'),
      el('span', { class: 'muted' }, `${fmtInt(t.requests)} requests · ${t.accounts} account(s)`)),
    t.samples.length ? t.samples.map((s) => el('pre', { class: 'prompt', 'data-testid': 'prompt' }, s)) : el('div', { class: 'muted small' }, 'no sample kept')));
  const decisions = (c.decisions || []).map((d) => el('tr', {}, el('td', {}, fmtTime(d.at)), el('td', {}, d.account_id),
    el('td', {}, badge(d.action, 'w-' + d.action)), el('td', {}, d.would), el('td', { class: 'small' }, d.reasons)));
  const alerts = (c.alerts || []).map((a) => el('tr', {}, el('td', {}, fmtTime(a.at)), el('td', {}, a.account_id),
    el('td', {}, levelBadge(a.level)), el('td', { class: 'num' }, a.score.toFixed(2)), el('td', {}, a.by_cluster ? 'with its cluster' : 'on its own')));
  const audit = (c.audit || []).map((a) => el('tr', {}, el('td', {}, '#' + a.id), el('td', {}, fmtTime(a.at)), el('td', {}, a.who),
    el('td', {}, badge(a.action, 'act-' + a.action)), el('td', { class: 'detail' }, a.note)));

  page(
    el('a', { href: '#/', class: 'back' }, '← Cases'),
    el('div', { class: 'titlebar' },
      el('h1', { 'data-testid': 'case-title' }, badge(KIND_LABEL[c.kind] || c.kind, 'kind big'), ' ', el('span', { class: 'caseid' }, c.id)),
      c.scope ? el('span', { class: 'muted' }, 'in account ' + c.scope) : null),
    el('div', { class: 'case-top' },
      el('div', { class: 'tiles' },
        tile('Score', c.score.toFixed(2), c.level, 'tile-score'),
        tile('Accounts', fmtInt(c.accounts), c.kind === 'cluster' ? 'linked' : '', 'tile-members'),
        tile('Requests', fmtInt(c.requests), '', 'tile-requests'),
        tile('Output tokens', fmtTokens(c.output_tokens), '', 'tile-output'),
        tile('First flagged', fmtTime(c.first_flagged_at), '', 'tile-flagged'),
        tile(QUEUE && QUEUE.shadow ? 'Would have' : 'Decisions', fmtInt((would.block || 0) + (would.throttle || 0) + (would.degrade || 0)),
          `block ${fmtInt(would.block || 0)} · throttle ${fmtInt(would.throttle || 0)}`, 'tile-would')),
      actionPanel(c, reload)),
    section('Activity over time', 'activity', plots),
    el('div', { class: 'two' },
      section('Why it was flagged', 'evidence', evidence.length ? table('evidence', 'evidence-table', ['Detector', 'Family', 'Weight', 'Strength', 'Figures'], evidence) : el('div', { class: 'empty' }, 'No evidence.')),
      section('Members and shared indicators', 'links', graph)),
    c.kind === 'cluster' ? section(`Members (${fmtInt(c.members_total)})`, 'members',
      table('members', 'members-table', ['Account', 'Score', 'Level', 'First flagged', 'Requests', 'Output', 'Override', 'Evidence'], members)) : null,
    section('Prompts by template', 'templates', templates.length ? templates : el('div', { class: 'empty' }, 'No template recorded.')),
    c.live !== false ? el('div', { class: 'two' },
      section('Decisions', 'decisions', decisions.length ? table('', 'decisions-table', ['When', 'Account', 'Action', 'Would', 'Reasons'], decisions) : el('div', { class: 'empty' }, 'No contained decision yet.')),
      section('Alerts', 'alerts', alerts.length ? table('', 'alerts-table', ['Flagged at', 'Account', 'Level', 'Score', 'How'], alerts) : el('div', { class: 'empty' }, 'No alert.'))) : null,
    c.live !== false ? section('Audit trail', 'audit', audit.length ? table('', 'audit-table', ['#', 'When', 'Who', 'Action', 'Note'], audit) : el('div', { class: 'empty' }, 'No action taken on this case yet.')) : null,
  );
  renderSeries(plots, c);
  renderGraph(graph, c);
}

// ---------------------------------------------------------------------------------------------
// Audit log (live only).

async function showAudit() {
  page(el('div', { class: 'loading' }, 'Loading the audit log…'));
  let rows;
  try {
    rows = await api('/v1/audit?limit=10000');
  } catch (e) {
    page(errorBox('Could not load the audit log: ' + e.message));
    return;
  }
  rows.reverse();
  page(el('div', { class: 'titlebar' }, el('h1', {}, 'Audit log'), el('span', { class: 'muted' }, `${rows.length} actions, newest first`)),
    section('Every action taken', 'audit-log', rows.length ? table('', 'audit-log-table', ['#', 'When', 'Who', 'Action', 'On', 'Note'], rows.map((a) => el('tr', {},
      el('td', {}, '#' + a.id), el('td', {}, fmtTime(a.at)), el('td', {}, a.who), el('td', {}, badge(a.action, 'act-' + a.action)),
      el('td', {}, badge(KIND_LABEL[a.kind] || a.kind, 'kind'), ' ', el('a', { href: caseHash(a.kind === 'api_key' ? 'api_key' : a.kind, a.scope, a.target), class: 'caseid' }, a.target),
        a.scope ? el('span', { class: 'muted small' }, ' in ' + a.scope) : null),
      el('td', { class: 'detail' }, a.note)))) : el('div', { class: 'empty' }, 'No action yet.')));
}

// ---------------------------------------------------------------------------------------------
// Routing.

function route() {
  const h = location.hash || '#/';
  const m = h.match(/^#\/case\/([^/]+)\/([^/]+)\/(.+)$/);
  if (m) {
    const [kind, scope, id] = m.slice(1).map(decodeURIComponent);
    showCase(kind, scope === '-' ? '' : scope, id);
  } else if (h === '#/audit' && MODE === 'live') {
    showAudit();
  } else {
    showQueue();
  }
}

async function start() {
  if (MODE === 'static') {
    STATIC = JSON.parse(document.getElementById('dg-data').textContent);
  } else {
    try {
      SESSION = await api('/v1/session');
    } catch (e) {
      page(errorBox('Could not start: ' + e.message));
      return;
    }
  }
  window.addEventListener('hashchange', route);
  route();
}

start();
