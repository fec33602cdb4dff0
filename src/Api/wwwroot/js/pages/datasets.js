import { get, send } from '../api.js';
import { errorBox, fmt, h, imageCanvas, panel, pixelMax, table } from '../ui.js';

export async function datasetsPage(main) {
  const list = await get('/api/datasets');
  const samples = h('div', { id: 'samples' });
  const upload = h('div');
  const file = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv' });
  main.append(h('h1', {}, 'Datasets'), panel(null, table([
    { label: 'Name', value: d => d.name }, { label: 'Kind', value: d => d.kind },
    { label: 'Available', value: d => (d.available ? 'yes' : h('span', { title: d.how_to_install ?? '' }, 'no')) },
    { label: 'Input shape', value: d => (d.input_shape ? d.input_shape.join('×') : '—') },
    { label: 'Examples', narrow: true, value: d => Object.entries(d.splits ?? {}).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') },
    { label: 'Classes', narrow: true, value: d => (d.classes ? (d.classes.length > 6 ? `${d.classes.slice(0, 6).join(', ')}, … (${d.classes.length})` : d.classes.join(', ')) : '—') },
    { label: '', value: d => (d.kind === 'images' && d.available ? h('button', { class: 'secondary', onclick: () => show(d) }, `Show ${d.name} samples`)
      : d.name.startsWith('csv:') ? h('button', { class: 'secondary', 'aria-label': `Delete upload ${d.name}`, onclick: () => remove(d) }, 'Delete') : '') },
  ], list)), samples,
  panel('Upload a CSV', h('p', { class: 'note' }, 'A header row is required; the service infers each column\'s type. Runs use the name it answers (csv:<id>).'),
    h('div', { class: 'row' }, h('div', {}, h('label', { for: 'csv-file' }, 'CSV file'), file),
      h('button', { onclick: uploadCsv }, 'Upload')), upload));

  async function show(d) {
    const items = await get(`/api/datasets/${encodeURIComponent(d.name)}/samples?count=32`);
    const max = pixelMax(items.flatMap(s => s.values));
    samples.replaceChildren(panel(`${d.name}: first ${items.length} training examples`, h('div', { class: 'thumbs' },
      items.map(s => h('figure', {}, imageCanvas(s.shape, s.values, max, `example ${s.index}: ${s.label_name}`), h('figcaption', {}, s.label_name))))));
  }
  async function remove(d) {
    if (!confirm(`Delete the upload ${d.name}? Runs that used it keep their models.`)) return;
    try {
      await send('DELETE', `/api/datasets/${encodeURIComponent(d.name)}`);
      main.replaceChildren();
      await datasetsPage(main);
    } catch (e) {
      upload.replaceChildren(errorBox(e));
    }
  }
  async function uploadCsv() {
    if (!file.files[0]) { upload.replaceChildren(h('p', { class: 'error' }, 'Choose a CSV file first.')); return; }
    const form = new FormData();
    form.append('file', file.files[0]);
    try {
      const d = await send('POST', '/api/datasets', form);
      const columns = Array.isArray(d.columns) ? d.columns : [];
      upload.replaceChildren(h('p', { id: 'stored-as' }, 'Stored as ', h('code', {}, d.name), `: ${d.description ?? ''}`),
        columns.length ? table(Object.keys(columns[0]).map(k => ({ label: k, value: c => (typeof c[k] === 'object' && c[k] !== null ? JSON.stringify(c[k]) : fmt(c[k])) })), columns) : h('pre', {}, JSON.stringify(d.columns, null, 2)));
    } catch (e) {
      upload.replaceChildren(errorBox(e));
    }
  }
}
