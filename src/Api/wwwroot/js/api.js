// The only way the UI talks to the service: its public REST API and SSE streams. An API key, when the service asks
// for one (401), is kept in sessionStorage for this tab only and sent as a Bearer token.
const KEY = 'trainingservice.apiKey';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function headers(extra = {}) {
  const key = sessionStorage.getItem(KEY);
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

function askForKey() {
  const dialog = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  return new Promise(resolve => {
    dialog.addEventListener('close', () => {
      if (input.value) sessionStorage.setItem(KEY, input.value);
      resolve(Boolean(input.value));
    }, { once: true });
    if (!dialog.open) dialog.showModal();
  });
}

export async function request(path, options = {}, retried = false) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if ((response.status === 401 || response.status === 403) && !retried) {
    sessionStorage.removeItem(KEY);
    if (await askForKey()) return request(path, options, true);
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function get(path) {
  return (await request(path)).json();
}

export async function send(method, path, body) {
  const options = { method };
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) {
    options.body = typeof body === 'string' ? body : JSON.stringify(body);
    options.headers = { 'Content-Type': 'application/json' };
  }
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

/** Follows an SSE stream with fetch (so the Authorization header goes along); calls onEvent(type, data) per event.
 *  Returns an AbortController; aborting it ends the stream. */
export function stream(path, onEvent, onEnd) {
  const controller = new AbortController();
  (async () => {
    try {
      const response = await request(path, { signal: controller.signal, headers: { Accept: 'text/event-stream' } });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length) onEvent(type, JSON.parse(data.join('\n')));
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') console.warn('stream ended', e.message);
    } finally {
      onEnd?.();
    }
  })();
  return controller;
}

/** Downloads a response as a file (fetch, so the key goes along). */
export async function download(path, fallbackName) {
  const response = await request(path);
  const disposition = response.headers.get('Content-Disposition') || '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = match ? decodeURIComponent(match[1]) : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
