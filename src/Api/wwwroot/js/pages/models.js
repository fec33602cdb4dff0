import { get, send } from '../api.js';
import { errorBox, fmt, h, panel, pixelMax, table, when } from '../ui.js';
import { bestMetric } from './runs.js';

export async function modelsPage(main) {
  const models = await get('/api/models');
  const items = Array.isArray(models) ? models : models.items ?? [];
  main.append(h('h1', {}, 'Models'), panel(null, items.length === 0
    ? h('p', { class: 'muted' }, 'No named model has a succeeded run yet. A run\'s name is the model name it serves.')
    : table([
      { label: 'Model', value: m => h('a', { href: `#/models/${encodeURIComponent(m.name)}` }, m.name) },
      { label: 'Serving run', value: m => h('a', { href: `#/runs/${m.run_id}` }, m.run_id.slice(0, 8)) },
      { label: 'Test metric', value: m => bestMetric(m.metrics) },
      { label: 'Versions', num: true, value: m => m.versions },
      { label: 'Trained', narrow: true, value: m => when(m.trained_at) },
    ], items)));
}

/** Prediction playground: a drawing pad (or dropped image) for image models, a text box for text models, a form for tables. */
export async function playgroundPage(main, _params, name) {
  const model = await get(`/api/models/${encodeURIComponent(name)}`);
  const run = await get(`/api/runs/${model.run_id}`);
  const datasetName = run.spec?.dataset?.name;
  const dataset = await get(`/api/datasets/${encodeURIComponent(datasetName)}`);
  const result = h('div', { id: 'prediction', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'The class probabilities appear here.'));
  const input = h('div');
  main.append(h('h1', {}, `Try ${name}`),
    h('p', { class: 'muted' }, 'Serving run ', h('a', { href: `#/runs/${run.id}` }, run.id.slice(0, 8)), ` · dataset ${datasetName} · test ${bestMetric(run.metrics)}`),
    h('div', { class: 'grid' }, panel('Input', input), panel('Prediction', result)));

  async function predict(instances) {
    try {
      const answer = await send('POST', `/api/models/${encodeURIComponent(name)}/predict`, { instances });
      result.replaceChildren(probabilityBars(answer.predictions[0], dataset.classes));
    } catch (e) {
      result.replaceChildren(errorBox(e));
    }
  }

  if (dataset.kind === 'images') await imageInput(input, dataset, predict);
  else if (dataset.kind === 'sequences') {
    const box = h('textarea', { id: 'text', rows: 6, 'aria-label': 'Text to classify' }, 'A wonderful film with a moving story and great acting.');
    input.append(h('label', { for: 'text' }, 'Text'), box, h('div', { class: 'actions', style: 'margin-top:8px' }, h('button', { onclick: () => predict([box.value]) }, 'Predict')));
  } else tableInput(input, dataset, predict);
}

async function imageInput(container, dataset, predict) {
  const samples = await get(`/api/datasets/${encodeURIComponent(dataset.name)}/samples?count=8`);
  const shape = samples[0].shape;
  const max = pixelMax(samples.flatMap(s => s.values));
  const [rows, cols, channels = 1] = shape;
  const pad = h('canvas', { class: 'pad', width: 280, height: 280, tabindex: 0, id: 'pad', 'aria-label': 'Drawing pad: draw with the mouse, a finger or a pen; or drop an image file here' });
  const ctx = pad.getContext('2d');
  const clear = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, 280, 280); };
  clear();
  let drawing = false;
  const at = e => { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * 280 / r.width, (e.clientY - r.top) * 280 / r.height]; };
  pad.addEventListener('pointerdown', e => { drawing = true; pad.setPointerCapture(e.pointerId); ctx.beginPath(); ctx.moveTo(...at(e)); });
  pad.addEventListener('pointermove', e => {
    if (!drawing) return;
    ctx.strokeStyle = '#fff'; ctx.lineWidth = 24; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
    ctx.lineTo(...at(e)); ctx.stroke();
  });
  pad.addEventListener('pointerup', () => { drawing = false; send(); });
  pad.addEventListener('dragover', e => e.preventDefault());
  pad.addEventListener('drop', e => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (file) loadFile(file);
  });
  const fileInput = h('input', { type: 'file', id: 'image-file', accept: 'image/*', onchange: e => e.target.files[0] && loadFile(e.target.files[0]) });
  function loadFile(file) {
    const img = new Image();
    img.onload = () => { clear(); ctx.drawImage(img, 0, 0, 280, 280); URL.revokeObjectURL(img.src); send(); };
    img.src = URL.createObjectURL(file);
  }
  // The pad is shrunk to the dataset's stored image size and scaled to its pixel range (0..16 for digits).
  function send() {
    const small = document.createElement('canvas');
    small.width = cols; small.height = rows;
    const sctx = small.getContext('2d');
    sctx.imageSmoothingQuality = 'high';
    sctx.drawImage(pad, 0, 0, cols, rows);
    const px = sctx.getImageData(0, 0, cols, rows).data;
    const instance = [];
    for (let y = 0; y < rows; y++) {
      const line = [];
      for (let x = 0; x < cols; x++) {
        const i = (y * cols + x) * 4;
        const v = c => Math.round(px[i + c] * max / 255);
        line.push(shape.length === 2 ? v(0) : channels === 1 ? [v(0)] : [v(0), v(1), v(2)]);
      }
      instance.push(line);
    }
    predict([instance]);
  }
  container.append(pad, h('div', { class: 'actions', style: 'margin-top:8px' },
    h('button', { class: 'secondary', onclick: () => { clear(); } }, 'Clear'),
    h('button', { onclick: send }, 'Predict'),
    h('label', { for: 'image-file', style: 'align-self:center' }, 'or choose an image'), fileInput),
    h('p', { class: 'note' }, `Drawn white on black, sent as a ${shape.join('×')} image with values 0–${max}.`));
}

function tableInput(container, dataset, predict) {
  const columns = Array.isArray(dataset.columns) ? dataset.columns : null;
  const fields = columns
    ? columns.map(c => ({ name: c.name, type: c.type ?? c.kind ?? '' }))
    : Array.from({ length: dataset.input_shape?.[0] ?? 1 }, (_, i) => ({ name: `feature ${i + 1}`, type: 'number' }));
  const inputs = fields.map((f, i) => h('input', { id: `col-${i}`, value: '', inputmode: f.type === 'number' || f.type === 'numeric' ? 'decimal' : undefined }));
  container.append(h('div', { class: 'grid', style: 'grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px' },
    fields.map((f, i) => h('div', {}, h('label', { for: `col-${i}` }, `${f.name}${f.type ? ` (${f.type})` : ''}`), inputs[i]))),
    h('div', { class: 'actions', style: 'margin-top:10px' }, h('button', {
      onclick: () => {
        const value = s => (s.trim() !== '' && !Number.isNaN(Number(s)) ? Number(s) : s);
        predict([columns ? Object.fromEntries(fields.map((f, i) => [f.name, value(inputs[i].value)])) : inputs.map(x => Number(x.value))]);
      },
    }, 'Predict')));
}

export function probabilityBars(prediction, classes) {
  if (!prediction.probabilities) return h('pre', {}, JSON.stringify(prediction, null, 2));
  const names = classes ?? prediction.probabilities.map((_, i) => String(i));
  return h('div', {},
    h('p', {}, 'Predicted ', h('strong', { id: 'predicted-label' }, prediction.label ?? names[prediction.class]),
      ` (${fmt(prediction.probabilities[prediction.class] * 100, 3)} %)`),
    h('div', { class: 'bars', role: 'list', 'aria-label': 'Class probabilities' }, prediction.probabilities.flatMap((p, i) => [
      h('span', { role: 'listitem' }, names[i] ?? i),
      h('div', { class: `bar${i === prediction.class ? ' top' : ''}`, style: `width:${Math.max(0.5, p * 100)}%`, 'aria-hidden': 'true' }),
      h('span', {}, `${fmt(p * 100, 3)} %`)])));
}
