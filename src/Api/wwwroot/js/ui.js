// Small DOM helpers shared by the pages.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const panel = (title, ...children) => h('section', { class: 'panel' }, title ? h('h2', {}, title) : null, ...children);

export const status = s => h('span', { class: `status ${s}` }, s);

export function fmt(n, digits = 4) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (typeof n !== 'number') return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return Math.abs(n) >= 1000 ? n.toFixed(0) : Number(n.toPrecision(digits)).toString();
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function duration(start, end) {
  if (!start) return '—';
  const s = ((end ? new Date(end) : new Date()) - new Date(start)) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function table(columns, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { class: 'muted', style: 'text-align:left' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col', class: c.num ? 'num' : (c.narrow ? 'hide-narrow' : null) }, c.label)))),
    h('tbody', {}, rows.map(r => h('tr', {}, columns.map(c => h('td', { class: c.num ? 'num' : (c.narrow ? 'hide-narrow' : null) }, c.value(r))))))));
}

export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(p => p).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function errorBox(e) {
  const errors = e?.problem?.errors;
  return h('div', { class: 'error', role: 'alert' }, h('p', {}, e.message),
    errors ? h('ul', { class: 'field-errors' }, Object.entries(errors).map(([path, msgs]) => h('li', {}, h('code', {}, path), ' ', msgs.join(' ')))) : null);
}

/** Draws a raw example (shape [H, W] or [H, W, C], values 0..max) on a canvas. */
export function imageCanvas(shape, values, max, label) {
  const [hgt, wid, ch = 1] = shape.length === 1 ? [1, shape[0], 1] : shape;
  const canvas = h('canvas', { width: wid, height: hgt, role: 'img', 'aria-label': label });
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(wid, hgt);
  const scale = 255 / (max || 255);
  for (let i = 0; i < wid * hgt; i++) {
    for (let c = 0; c < 3; c++) img.data[i * 4 + c] = values[i * ch + (ch === 3 ? c : 0)] * scale;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** 16 for scikit-learn's digits (0..16), else 255. */
export const pixelMax = values => (Math.max(...values) <= 16 ? 16 : 255);
