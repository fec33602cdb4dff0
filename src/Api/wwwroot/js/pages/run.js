import { download, get, send, stream } from '../api.js';
import { lineChart } from '../charts.js';
import { duration, errorBox, facts, fmt, h, imageCanvas, panel, pixelMax, status, table, when } from '../ui.js';

const TERMINAL = ['succeeded', 'stopped', 'failed', 'cancelled'];

export async function runPage(main, _params, id) {
  let run = await get(`/api/runs/${id}`);
  const title = h('h1', {}, run.name ?? id, ' ', status(run.status));
  const actions = h('div', { class: 'actions' });
  const info = h('div');
  const curves = h('section', { class: 'panel', id: 'curves', 'data-epochs': '0' }, h('h2', {}, 'Learning curves'));
  const curveGrid = h('div', { class: 'grid' });
  const curveNote = h('p', { class: 'note', 'aria-live': 'polite' }, 'Waiting for the first epoch…');
  curves.append(curveNote, curveGrid);
  const evaluation = h('div', { id: 'evaluation' });
  const message = h('div', { role: 'status' });
  main.append(title, message, actions, curves, info, evaluation);

  const charts = new Map();
  let epochs = 0;
  function chartFor(key, keys) {
    if (charts.has(key)) return charts.get(key);
    const cell = h('div', { class: 'panel' });
    curveGrid.append(cell);
    const series = keys.map((k, i) => ({ label: k, dash: k.startsWith('val_') ? [6, 4] : undefined, color: ['#1f5fbf', '#d1495b'][i] }));
    const chart = lineChart(cell, { title: key, series, log: key === 'learning_rate', markerLabel: 'best' });
    charts.set(key, { chart, keys });
    return charts.get(key);
  }
  function onEpoch(e) {
    const logKeys = Object.keys(e).filter(k => !['epoch', 'learning_rate', 'duration_seconds'].includes(k));
    for (const key of logKeys.filter(k => !k.startsWith('val_'))) {
      const keys = logKeys.includes(`val_${key}`) ? [key, `val_${key}`] : [key];
      const { chart } = chartFor(key, keys);
      chart.add(e.epoch, keys.map(k => e[k]));
    }
    chartFor('learning_rate', ['learning_rate']).chart.add(e.epoch, [e.learning_rate]);
    epochs = e.epoch;
    curves.dataset.epochs = String(epochs);
    curveNote.textContent = `${epochs} of ${run.epochs_planned} epochs · last epoch ${fmt(e.duration_seconds, 3)} s`;
  }

  // Buttons are rebuilt only when what they show changes: every SSE event used to replace them, so a click whose
  // mouse-down and mouse-up straddled an event hit two different elements and was lost (and keyboard focus went).
  let shownActions;
  function renderActions() {
    const key = `${run.status}|${run.name ?? ''}|${run.role ?? ''}`;
    if (key === shownActions) return;
    shownActions = key;
    const active = !TERMINAL.includes(run.status);
    actions.replaceChildren(...[
      active ? h('button', { class: 'danger', onclick: cancel }, 'Cancel run') : null,
      run.status === 'succeeded' ? h('button', { class: 'secondary', onclick: () => download(`/api/runs/${id}/weights`, `${id}.bin`) }, 'Download weights') : null,
      run.status === 'succeeded' ? h('button', { class: 'secondary', onclick: () => download(`/api/runs/${id}/keras`, `${run.name ?? id}.json`) }, 'Export Keras JSON') : null,
      run.status === 'succeeded' && run.name ? h('a', { class: 'button secondary', href: `#/models/${encodeURIComponent(run.name)}` }, 'Try the model') : null,
      h('a', { class: 'button secondary', href: `#/compare?ids=${id}` }, 'Compare'),
      run.role === 'cross_validation' || run.spec?.cross_validation ? h('a', { class: 'button secondary', href: `#/runs/${id}/cv` }, 'Cross-validation folds') : null,
      h('button', { class: 'danger', onclick: remove }, 'Delete run')].filter(Boolean));
  }
  async function cancel() {
    try {
      const answer = await send('POST', `/api/runs/${id}/cancel`);
      // The event stream may have reported the end before this answer arrived: a stale "running" must not bring the
      // Cancel button back under a "cancelled" title.
      if (!TERMINAL.includes(run.status)) run = answer;
      message.replaceChildren(h('p', {}, 'Cancel requested.'));
      renderActions();
    }
    catch (e) { message.replaceChildren(errorBox(e)); }
  }
  async function remove() {
    if (!confirm(`Delete run ${run.name ?? id} with its metrics and weights?`)) return;
    try { await send('DELETE', `/api/runs/${id}`); location.hash = '#/runs'; }
    catch (e) { message.replaceChildren(errorBox(e)); }
  }

  function renderInfo() {
    title.replaceChildren(run.name ?? id, ' ', status(run.status));
    const testMetrics = run.metrics ? table([{ label: 'Metric', value: r => r[0] }, { label: 'Test value', num: true, value: r => fmt(r[1]) }], Object.entries(run.metrics)) : h('p', { class: 'muted' }, 'Not scored yet.');
    const summary = run.summary;
    info.replaceChildren(h('div', { class: 'grid' },
      panel('Run', facts([
        ['Id', h('code', {}, id)], ['Dataset', run.spec?.dataset?.name ?? '—'],
        ['Epochs', `${run.epochs_completed} of ${run.epochs_planned}`],
        ['Best epoch', run.best_epoch ?? '—'], ['Stopped early', run.stopped_early ? 'yes' : 'no'],
        ['Attempts', `${run.attempts}${run.attempts > 1 ? ' (resumed after an interruption)' : ''}`],
        ['Created', when(run.created_at)], ['Started', when(run.started_at)], ['Finished', when(run.finished_at)],
        ['Training time', duration(run.started_at, run.finished_at)],
        ['Queued for', run.started_at ? duration(run.created_at, run.started_at) : '—'],
        run.error ? ['Error', h('span', { class: 'error' }, run.error)] : null,
      ])),
      panel('Test metrics', testMetrics),
      summary ? panel('Model summary', table([
        { label: 'Layer', value: l => l.name }, { label: 'Type', value: l => l.type },
        { label: 'Output shape', value: l => (l.output_shapes ?? []).map(s => `(None, ${s.join(', ')})`).join(' ') },
        { label: 'Params', num: true, value: l => fmt(l.parameters) },
      ], summary.layers ?? []), h('p', { class: 'note' }, `Total parameters ${fmt(summary.total_parameters)} · trainable ${fmt(summary.trainable_parameters)}`)) : null),
      h('details', { class: 'panel' }, h('summary', {}, 'Spec (as submitted)'), h('pre', {}, JSON.stringify(run.spec, null, 2))));
    for (const { chart } of charts.values()) chart.setMarker(run.best_epoch ?? null);
    if (run.stopped_early) curveNote.textContent = `Early stopping ended training after epoch ${run.epochs_completed}; best epoch ${run.best_epoch} (dashed line).`;
  }

  async function renderEvaluation() {
    if (run.status !== 'succeeded') return;
    let ev;
    try { ev = await get(`/api/runs/${id}/evaluation`); } catch { return; }
    evaluation.replaceChildren(confusionPanel(ev), perClassPanel(ev), misclassifiedPanel(ev));
  }

  renderActions();
  renderInfo();
  const events = stream(`/api/runs/${id}/events`, async (type, data) => {
    if (type === 'epoch') onEpoch(data);
    else if (type === 'status') {
      if (data.status === 'deleted') { message.replaceChildren(h('p', {}, 'This run was deleted.')); return; }
      run = { ...run, status: data.status, epochs_completed: data.epochs_completed };
      if (TERMINAL.includes(data.status)) {
        run = await get(`/api/runs/${id}`);
        renderEvaluation();
      }
      renderActions();
      renderInfo();
    }
  });
  return () => { events.abort(); for (const { chart } of charts.values()) chart.destroy(); };
}

function confusionPanel(ev) {
  const max = Math.max(1, ...ev.confusion_matrix.flat());
  const cell = (v, diag) => {
    const a = v / max;
    // Capped so that the dark figures keep a 4.5:1 contrast on the strongest cell.
    const bg = diag ? `rgba(23,107,53,${0.06 + 0.5 * a})` : `rgba(179,38,30,${v ? 0.06 + 0.5 * a : 0})`;
    return h('td', { style: `background:${bg}`, title: `${v}` }, v);
  };
  return panel(`Confusion matrix (test set, ${fmt(ev.examples)} examples, accuracy ${fmt(ev.accuracy)})`,
    h('div', { class: 'table-wrap' }, h('table', { class: 'heat', id: 'confusion' },
      h('caption', { class: 'note', style: 'text-align:left' }, 'Rows: true class · columns: predicted class'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'true \\ predicted'), ev.classes.map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ev.confusion_matrix.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, ev.classes[i]), row.map((v, j) => cell(v, i === j))))))));
}

function perClassPanel(ev) {
  return panel('Per-class scores', table([
    { label: 'Class', value: c => c.class }, { label: 'Precision', num: true, value: c => fmt(c.precision, 3) },
    { label: 'Recall', num: true, value: c => fmt(c.recall, 3) }, { label: 'F1', num: true, value: c => fmt(c.f1, 3) },
    { label: 'Support', num: true, value: c => fmt(c.support) },
  ], ev.per_class));
}

function misclassifiedPanel(ev) {
  const images = ev.misclassified.filter(m => m.input.shape.length >= 2 && m.input.shape.length <= 3);
  if (images.length === 0) return ev.misclassified.length ? null : panel('Misclassified examples', h('p', { class: 'muted' }, 'None: every test example was classified correctly.'));
  const max = pixelMax(images.flatMap(m => m.input.values.slice(0, 64)));
  return panel(`Misclassified test examples (first ${images.length})`, h('div', { class: 'thumbs' }, images.map(m => {
    const caption = `true ${ev.classes[m.true_class]}, predicted ${ev.classes[m.predicted_class]} (${Math.round(m.confidence * 100)}%)`;
    return h('figure', {}, imageCanvas(m.input.shape, m.input.values, max, caption), h('figcaption', {}, `${ev.classes[m.true_class]} → ${ev.classes[m.predicted_class]}`));
  })));
}
