import { get } from '../api.js';
import { duration, fmt, h, status, table, when } from '../ui.js';

const STATUSES = ['', 'queued', 'running', 'succeeded', 'stopped', 'failed', 'cancelled'];
const PAGE_SIZE = 20;

/** The headline metric of a run: accuracy-like if present, else the loss. */
export function bestMetric(metrics) {
  if (!metrics) return '—';
  const key = Object.keys(metrics).find(k => /acc|auc|f1|precision|recall/.test(k)) ?? (metrics.loss !== undefined ? 'loss' : Object.keys(metrics)[0]);
  return key ? `${key} ${fmt(metrics[key])}` : '—';
}

export async function runsPage(main, params) {
  const state = { status: params.get('status') ?? '', name: params.get('name') ?? '', page: Number(params.get('page') ?? 1) };
  const statusSelect = h('select', { id: 'f-status', onchange: e => { state.status = e.target.value; state.page = 1; load(); } },
    STATUSES.map(s => h('option', { value: s, selected: s === state.status }, s || 'any')));
  const nameInput = h('input', { id: 'f-name', type: 'search', value: state.name, placeholder: 'part of a name' });
  let typing;
  nameInput.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { state.name = nameInput.value; state.page = 1; load(); }, 250); });
  const body = h('div', { 'aria-live': 'polite' });
  main.append(h('h1', {}, 'Runs'), h('section', { class: 'panel' },
    h('div', { class: 'row' },
      h('div', {}, h('label', { for: 'f-status' }, 'Status'), statusSelect),
      h('div', {}, h('label', { for: 'f-name' }, 'Name contains'), nameInput),
      h('a', { class: 'button', href: '#/submit' }, 'New run'),
      h('a', { class: 'button secondary', href: '#/compare' }, 'Compare runs')),
    body));

  let timer = null;
  async function load() {
    const q = new URLSearchParams({ page: state.page, page_size: PAGE_SIZE });
    if (state.status) q.set('status', state.status);
    if (state.name) q.set('name_contains', state.name);
    const page = await get(`/api/runs?${q}`);
    const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    body.replaceChildren(
      page.items.length === 0 ? h('p', { class: 'muted' }, 'No runs match.') : table([
        { label: 'Name', value: r => h('a', { href: `#/runs/${r.id}` }, r.name ?? r.id.slice(0, 8)) },
        { label: 'Status', value: r => status(r.status) },
        { label: 'Dataset', value: r => r.dataset ?? '—' },
        { label: 'Parameters', num: true, value: r => fmt(r.parameters), narrow: true },
        { label: 'Test metric', value: r => bestMetric(r.metrics) },
        { label: 'Epochs', num: true, value: r => `${r.epochs_completed}/${r.epochs_planned}` },
        { label: 'Duration', num: true, narrow: true, value: r => duration(r.started_at, r.finished_at) },
        { label: 'Started', narrow: true, value: r => when(r.started_at ?? r.created_at) },
      ], page.items),
      h('nav', { class: 'pager', 'aria-label': 'Pages' },
        h('button', { class: 'secondary', disabled: state.page <= 1, onclick: () => { state.page--; load(); } }, 'Previous'),
        h('span', {}, `Page ${state.page} of ${pages} · ${page.total} runs`),
        h('button', { class: 'secondary', disabled: state.page >= pages, onclick: () => { state.page++; load(); } }, 'Next')));
    clearTimeout(timer);
    // Live status: refresh while anything on the page is still queued or running.
    if (page.items.some(r => r.status === 'queued' || r.status === 'running')) timer = setTimeout(load, 2000);
  }
  await load();
  return () => { clearTimeout(timer); clearTimeout(typing); };
}
