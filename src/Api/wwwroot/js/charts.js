// Line and scatter charts on uPlot (npm uplot 1.6.32, lib/uplot). A chart keeps its data and can gain points live.
import uPlot from '../lib/uplot/uPlot.esm.js';
import { h } from './ui.js';

export const palette = ['#1f5fbf', '#d1495b', '#2a9d55', '#8a5300', '#7b3fb0', '#00798c', '#c05800', '#555f6d', '#b8336a', '#3d7dd8'];

function widthOf(el) {
  return Math.max(260, Math.floor(el.getBoundingClientRect().width || el.parentElement?.getBoundingClientRect().width || 600) - 4);
}

/** A line chart of series over x. series: [{label, color, dash}]. marker: x of a dashed vertical line (e.g. best epoch). */
export function lineChart(container, { title, xLabel = 'epoch', series, log = false, marker = null, markerLabel = '' }) {
  const holder = h('div', { class: 'chart', role: 'img', 'aria-label': `${title}: chart of ${series.map(s => s.label).join(', ')} by ${xLabel}` });
  const box = h('div', {}, h('div', { class: 'chart-title' }, title), holder);
  container.append(box);
  const data = [[], ...series.map(() => [])];
  const state = { marker };
  const opts = {
    width: widthOf(container), height: 230,
    scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
    axes: [{ label: xLabel, size: 40 }, { size: 56 }],
    series: [{ label: xLabel }, ...series.map((s, i) => ({
      label: s.label, stroke: s.color ?? palette[i % palette.length], width: 2, dash: s.dash, spanGaps: true,
      points: { show: true, size: 5 },
    }))],
    hooks: {
      draw: [u => {
        if (state.marker === null || state.marker === undefined) return;
        const x = Math.round(u.valToPos(state.marker, 'x', true));
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#8a5300'; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        ctx.fillStyle = '#8a5300'; ctx.font = `${12 * devicePixelRatio}px system-ui`;
        ctx.fillText(markerLabel, x + 4, u.bbox.top + 14 * devicePixelRatio);
        ctx.restore();
      }],
    },
  };
  const plot = new uPlot(opts, data, holder);
  const resize = new ResizeObserver(() => plot.setSize({ width: widthOf(container), height: 230 }));
  resize.observe(container);
  return {
    plot,
    points: () => data[0].length,
    add(x, values) {
      data[0].push(x);
      values.forEach((v, i) => data[i + 1].push(v ?? null));
      plot.setData(data);
    },
    setMarker(x) { state.marker = x; plot.redraw(); },
    destroy() { resize.disconnect(); plot.destroy(); },
  };
}

/** Points only: one series of (x, y) pairs, x sorted for uPlot. */
export function scatterChart(container, { title, xLabel, yLabel, points, logX = false }) {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const holder = h('div', { class: 'chart', role: 'img', 'aria-label': `${title}: ${yLabel} against ${xLabel}` });
  container.append(h('div', {}, h('div', { class: 'chart-title' }, title), holder));
  const plot = new uPlot({
    width: widthOf(container), height: 220,
    scales: { x: { time: false, distr: logX ? 3 : 1 } },
    axes: [{ label: xLabel, size: 40 }, { label: yLabel, size: 56 }],
    series: [{ label: xLabel }, { label: yLabel, stroke: palette[0], width: 0, paths: () => null, points: { show: true, size: 8, fill: palette[0] } }],
    legend: { show: false },
  }, [sorted.map(p => p[0]), sorted.map(p => p[1])], holder);
  return plot;
}
