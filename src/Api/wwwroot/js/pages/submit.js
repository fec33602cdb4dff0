import { get, send } from '../api.js';
import { errorBox, h, panel } from '../ui.js';

/** Start from an example in examples/ (served by GET /api/examples), edit, submit; a 400's JSON paths are listed
 *  under the editor, each one a button that selects that key in the text. */
export async function submitPage(main, params) {
  const examples = (await get('/api/examples')).filter(e => e.kind === 'run' || e.kind === 'sweep');
  const select = h('select', { id: 'example' }, examples.map(e => h('option', { value: e.name }, `${e.name} (${e.kind})`)));
  const editor = h('textarea', { id: 'spec', rows: 22, spellcheck: 'false', 'aria-describedby': 'spec-errors' });
  const errors = h('div', { id: 'spec-errors', 'aria-live': 'assertive' });
  const submit = h('button', { id: 'submit', onclick: go }, 'Submit');
  main.append(h('h1', {}, 'Submit a run'), panel(null,
    h('div', { class: 'row' }, h('div', {}, h('label', { for: 'example' }, 'Start from example'), select),
      h('button', { class: 'secondary', onclick: load }, 'Load example')),
    h('label', { for: 'spec' }, 'Request body (JSON): a run for POST /api/runs, or a sweep (with "space") for POST /api/sweeps'),
    editor, errors, h('div', { class: 'actions', style: 'margin-top:10px' }, submit)));
  select.value = params.get('example') ?? (examples.find(e => e.name === 'digits-mlp') ? 'digits-mlp' : examples[0]?.name);
  await load();

  async function load() {
    editor.value = JSON.stringify(await get(`/api/examples/${encodeURIComponent(select.value)}`), null, 2);
    errors.replaceChildren();
  }

  function selectPath(path) {
    // The last name in the path (model.layers[1].units → "units"), found after the earlier names in order.
    const names = path.split(/[.[\]]+/).filter(p => p && !/^\d+$/.test(p) && p !== '$');
    let at = 0;
    for (const n of names) { const i = editor.value.indexOf(`"${n}"`, at); if (i >= 0) at = i; }
    editor.focus();
    const last = names.at(-1);
    if (last) editor.setSelectionRange(at, at + last.length + 2);
  }

  async function go() {
    errors.replaceChildren();
    let body;
    try { body = JSON.parse(editor.value); } catch (e) { errors.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Not valid JSON: ${e.message}`)); return; }
    submit.disabled = true;
    try {
      const sweep = body && typeof body === 'object' && 'space' in body;
      const created = await send('POST', sweep ? '/api/sweeps' : '/api/runs', body);
      location.hash = sweep ? `#/sweeps/${created.id}` : `#/runs/${created.id}`;
    } catch (e) {
      const fieldErrors = e.problem?.errors;
      errors.replaceChildren(fieldErrors
        ? h('div', { role: 'alert' }, h('p', { class: 'error' }, e.problem.title ?? 'The request is not valid.'),
          h('ul', { class: 'field-errors' }, Object.entries(fieldErrors).map(([path, msgs]) => h('li', {},
            h('button', { class: 'secondary', style: 'padding:0 6px', onclick: () => selectPath(path), 'aria-label': `Show ${path} in the editor` }, h('code', {}, path)), ' ', msgs.join(' ')))))
        : errorBox(e));
    } finally {
      submit.disabled = false;
    }
  }
}
