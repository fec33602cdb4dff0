// Hash router: each page renders into <main> and returns a cleanup (closing its streams and timers).
import { runsPage } from './pages/runs.js';
import { runPage } from './pages/run.js';
import { comparePage } from './pages/compare.js';
import { sweepsPage, sweepPage } from './pages/sweeps.js';
import { crossValidationPage } from './pages/crossvalidation.js';
import { modelsPage, playgroundPage } from './pages/models.js';
import { datasetsPage } from './pages/datasets.js';
import { submitPage } from './pages/submit.js';
import { errorBox, h } from './ui.js';

const routes = [
  [/^#\/runs\/([0-9a-f-]{36})\/cv$/, crossValidationPage],
  [/^#\/runs\/([0-9a-f-]{36})$/, runPage],
  [/^#\/runs$/, runsPage],
  [/^#\/compare$/, comparePage],
  [/^#\/sweeps\/([0-9a-f-]{36})$/, sweepPage],
  [/^#\/sweeps$/, sweepsPage],
  [/^#\/models\/(.+)$/, playgroundPage],
  [/^#\/models$/, modelsPage],
  [/^#\/datasets$/, datasetsPage],
  [/^#\/submit$/, submitPage],
];

let cleanup = null;

async function render() {
  const [path, query] = (location.hash || '#/runs').split('?');
  const params = new URLSearchParams(query ?? '');
  cleanup?.();
  cleanup = null;
  const main = document.getElementById('main');
  main.replaceChildren();
  for (const a of document.querySelectorAll('.top nav a')) {
    if (path.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const route = routes.find(([re]) => re.test(path));
  if (!route) {
    main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/runs' }, 'Back to runs')));
    return;
  }
  const args = path.match(route[0]).slice(1).map(decodeURIComponent);
  try {
    cleanup = (await route[1](main, params, ...args)) ?? null;
  } catch (e) {
    main.append(errorBox(e));
  }
}

window.addEventListener('hashchange', () => { render(); document.getElementById('main').focus({ preventScroll: true }); });
if (!location.hash) history.replaceState(null, '', '#/runs');
render();
