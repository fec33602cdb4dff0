import { get, send, stream } from '../api.js';
import { lineChart, palette, scatterChart } from '../charts.js';
import { duration, errorBox, facts, fmt, h, panel, status, table, when } from '../ui.js';

export async function sweepsPage(main) {
  const page = await get('/api/sweeps?page_size=50');
  main.append(h('h1', {}, 'Sweeps'), panel(null, page.items.length === 0
    ? h('p', { class: 'muted' }, 'No sweeps yet. POST /api/sweeps (see examples/*sweep*.json) or use the Submit page.')
    : table([
      { label: 'Name', value: s => h('a', { href: `#/sweeps/${s.id}` }, s.name ?? s.id.slice(0, 8)) },
      { label: 'Status', value: s => status(s.status) }, { label: 'Method', value: s => s.method },
      { label: 'Trials', num: true, value: s => `${s.finished}/${s.trials}` },
      { label: 'Objective', value: s => s.objective_metric }, { label: 'Best', num: true, value: s => fmt(s.best_objective) },
      { label: 'Created', narrow: true, value: s => when(s.created_at) },
    ], page.items)));
}

export async function sweepPage(main, _params, id) {
  const body = h('div');
  main.append(body);
  const charts = [];
  const metricsCache = new Map();
  let busy = false, again = false;
  async function render() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const s = await get(`/api/sweeps/${id}`);
      const trials = [...s.trials].sort((a, b) => a.number - b.number);
      for (const t of trials.filter(t => t.run_id && ['succeeded', 'stopped', 'failed', 'cancelled'].includes(t.status)))
        if (!metricsCache.has(t.run_id)) metricsCache.set(t.run_id, await get(`/api/runs/${t.run_id}/metrics`).catch(() => []));
      charts.splice(0).forEach(c => c.destroy?.());
      const objective = s.objective.metric;
      const curveBox = h('div', { class: 'panel' });
      const paramNames = [...new Set(trials.flatMap(t => Object.keys(t.params)))];
      const scatterGrid = h('div', { class: 'grid' });
      body.replaceChildren(
        h('h1', {}, `Sweep ${s.name ?? id.slice(0, 8)} `, status(s.status)),
        h('div', { class: 'actions', style: 'margin-bottom:12px' },
          !['succeeded', 'failed', 'cancelled'].includes(s.status) ? h('button', { class: 'danger', onclick: async () => { try { await send('POST', `/api/sweeps/${id}/cancel`); } catch (e) { body.prepend(errorBox(e)); } } }, 'Cancel sweep') : null,
          s.best?.run_id ? h('a', { class: 'button secondary', href: `#/runs/${s.best.run_id}` }, 'Best trial\'s run') : null),
        h('div', { class: 'grid' },
          panel('Sweep', facts([
            ['Method', s.method], ['Objective', `${s.objective.mode} ${objective}`],
            ['Trials', `${s.counts.trials} of ${s.max_trials} (${s.counts.running} running, ${s.counts.stopped} stopped early)`],
            ['Epochs trained', `${s.counts.epochs_trained} of ${s.counts.epochs_if_all_completed} (${fmt(s.counts.epochs_saved_fraction * 100, 3)} % saved)`],
            ['Best', s.best ? `trial ${s.best.number}: ${fmt(s.best.objective)}` : '—'],
            ['Promoted', s.promoted ? `${s.promoted.name} (trial ${s.promoted.from_trial})` : '—'],
            ['Wall time', duration(s.started_at, s.finished_at)],
            s.error ? ['Error', h('span', { class: 'error' }, s.error)] : null])),
          s.rungs?.length ? panel('ASHA rungs', table([
            { label: 'Rung (epoch)', num: true, value: r => r },
            { label: 'Trials reaching it', num: true, value: r => trials.filter(t => t.epochs_completed >= r).length },
            { label: 'Stopped at it', num: true, value: r => trials.filter(t => t.stopped_at_epoch === r).length },
          ], s.rungs)) : null),
        panel('Trials', table([
          { label: '#', num: true, value: t => t.run_id ? h('a', { href: `#/runs/${t.run_id}`, 'aria-label': `trial ${t.number} run` }, t.number) : t.number },
          { label: 'Status', value: t => status(t.status) },
          ...paramNames.map(p => ({ label: p, value: t => fmt(t.params[p]) })),
          { label: objective, num: true, value: t => fmt(t.objective) },
          { label: 'Epochs', num: true, value: t => `${t.epochs_completed}/${t.epochs_planned}` },
          { label: 'Stopped at', num: true, value: t => t.stopped_at_epoch ?? '—' },
        ], trials)),
        curveBox, panel(`${objective} against each hyperparameter`, scatterGrid));
      const withRuns = trials.filter(t => metricsCache.get(t.run_id)?.length);
      if (withRuns.length) {
        const chart = lineChart(curveBox, { title: `${objective} per trial`, series: withRuns.map((t, i) => ({ label: `trial ${t.number}`, color: palette[i % palette.length] })) });
        const maxEpoch = Math.max(...withRuns.map(t => metricsCache.get(t.run_id).length));
        for (let e = 1; e <= maxEpoch; e++) chart.add(e, withRuns.map(t => metricsCache.get(t.run_id).find(m => m.epoch === e)?.[objective] ?? null));
        charts.push(chart);
      } else curveBox.append(h('p', { class: 'muted' }, 'Curves appear as trials finish.'));
      const scored = trials.filter(t => t.objective !== null && t.objective !== undefined);
      for (const p of paramNames) {
        const cell = h('div');
        scatterGrid.append(cell);
        const values = [...new Set(scored.map(t => t.params[p]))];
        const numeric = values.every(v => typeof v === 'number');
        const points = scored.map(t => [numeric ? t.params[p] : values.indexOf(t.params[p]), t.objective]);
        if (points.length) charts.push(scatterChart(cell, { title: p + (numeric ? '' : ` (${values.join(', ')})`), xLabel: p, yLabel: objective, points, logX: numeric && /learning_rate/.test(p) && points.every(q => q[0] > 0) }));
      }
    } finally {
      busy = false;
      if (again) { again = false; render(); }
    }
  }
  await render();
  const events = stream(`/api/sweeps/${id}/events`, () => render());
  return () => { events.abort(); charts.forEach(c => c.destroy?.()); };
}
