import { get } from '../api.js';
import { lineChart, palette } from '../charts.js';
import { h, panel, status } from '../ui.js';

/** Overlays one metric of several runs on one chart; the chosen runs live in the address (#/compare?ids=a,b). */
export async function comparePage(main, params) {
  const chosen = new Set((params.get('ids') ?? '').split(',').filter(Boolean));
  const runs = (await get('/api/runs?page_size=50')).items;
  const metricSelect = h('select', { id: 'metric' });
  const chartBox = h('div', { class: 'panel' });
  const picker = h('fieldset', { class: 'panel' }, h('legend', {}, 'Runs to overlay (latest 50)'),
    runs.map(r => h('div', {}, h('label', { style: 'display:inline;color:inherit' },
      h('input', { type: 'checkbox', value: r.id, checked: chosen.has(r.id), onchange: e => { e.target.checked ? chosen.add(r.id) : chosen.delete(r.id); update(); } }),
      ` ${r.name ?? r.id.slice(0, 8)} `, status(r.status), ` ${r.dataset ?? ''}`))));
  main.append(h('h1', {}, 'Compare runs'), h('div', { class: 'row' }, h('div', {}, h('label', { for: 'metric' }, 'Metric'), metricSelect)), chartBox, picker);
  metricSelect.addEventListener('change', draw);

  const histories = new Map();
  let chart = null;
  async function update() {
    history.replaceState(null, '', `#/compare?ids=${[...chosen].join(',')}`);
    for (const id of chosen) if (!histories.has(id)) histories.set(id, await get(`/api/runs/${id}/metrics`));
    const keys = new Set([...chosen].flatMap(id => (histories.get(id) ?? []).flatMap(e => Object.keys(e))));
    ['epoch', 'duration_seconds'].forEach(k => keys.delete(k));
    const current = metricSelect.value || (keys.has('val_loss') ? 'val_loss' : 'loss');
    metricSelect.replaceChildren(...[...keys].sort().map(k => h('option', { value: k, selected: k === current }, k)));
    draw();
  }
  function draw() {
    chart?.destroy();
    chartBox.replaceChildren();
    const ids = [...chosen].filter(id => histories.has(id));
    if (ids.length === 0) { chartBox.append(h('p', { class: 'muted' }, 'Pick runs below.')); return; }
    const key = metricSelect.value;
    const name = id => runs.find(r => r.id === id)?.name ?? id.slice(0, 8);
    chart = lineChart(chartBox, { title: `${key} by epoch`, series: ids.map((id, i) => ({ label: `${name(id)} (${id.slice(0, 4)})`, color: palette[i % palette.length] })) });
    const maxEpoch = Math.max(...ids.map(id => histories.get(id).length));
    for (let e = 1; e <= maxEpoch; e++) chart.add(e, ids.map(id => histories.get(id).find(m => m.epoch === e)?.[key] ?? null));
  }
  await update();
  return () => chart?.destroy();
}
