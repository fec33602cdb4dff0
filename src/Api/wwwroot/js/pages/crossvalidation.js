import { get } from '../api.js';
import { fmt, h, panel, status, table } from '../ui.js';

/** Per-fold bars for every metric, with the mean ± standard deviation over the folds. */
export async function crossValidationPage(main, _params, id) {
  const cv = await get(`/api/runs/${id}/cross_validation`);
  const metrics = Object.keys(cv.mean ?? cv.fold_runs.find(f => f.metrics)?.metrics ?? {});
  main.append(h('h1', {}, 'Cross-validation ', status(cv.status)),
    h('p', {}, h('a', { href: `#/runs/${id}` }, 'Back to the run'), ` · ${cv.folds} folds${cv.stratified ? ', stratified' : ''}, seed ${cv.seed}`),
    h('div', { class: 'grid' }, metrics.map(m => {
      const values = cv.fold_runs.map(f => f.metrics?.[m]);
      const max = Math.max(...values.filter(v => v !== undefined).map(Math.abs), 1e-12);
      return panel(`${m}: ${fmt(cv.mean?.[m])} ± ${fmt(cv.std?.[m])}`, h('div', { class: 'bars', role: 'list' },
        cv.fold_runs.flatMap((f, i) => [
          h('a', { href: `#/runs/${f.run_id}`, role: 'listitem' }, `fold ${f.fold + 1}`),
          h('div', { class: 'bar', style: `width:${values[i] === undefined ? 0 : (100 * Math.abs(values[i]) / max)}%`, 'aria-hidden': 'true' }),
          h('span', {}, fmt(values[i]))])));
    })),
    panel('Folds', table([
      { label: 'Fold', num: true, value: f => f.fold + 1 }, { label: 'Run', value: f => h('a', { href: `#/runs/${f.run_id}` }, f.run_id.slice(0, 8)) },
      { label: 'Status', value: f => status(f.status) }, { label: 'Epochs', num: true, value: f => f.epochs_completed },
      ...metrics.map(m => ({ label: m, num: true, value: f => fmt(f.metrics?.[m]) })),
    ], cv.fold_runs)),
    cv.refit ? panel('Refit on all training data', h('p', {}, h('a', { href: `#/runs/${cv.refit.run_id}` }, 'Refit run'), ' ', status(cv.refit.status),
      ' test: ', Object.entries(cv.refit.test_metrics ?? {}).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || '—')) : null);
}
