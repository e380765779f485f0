// Time charts on the vendored uPlot (global `uPlot`), sized to their container.

const COLOURS = ["#2f6fd0", "#d23a3a", "#2e9d5b", "#e0a100", "#8a4fd0", "#1aa3a3", "#c45a00", "#677085"];

export function colour(index) {
  return COLOURS[index % COLOURS.length];
}

// Below this span the data alone gives no sensible time axis (uPlot would spread a single
// point over years), so the axis is widened around it.
const MIN_SPAN_S = 60;
const PAD_S = 1800;

// The x range of a chart: `xRange` ([min, max] in epoch s, or a function returning one, asked
// again at every redraw) wins; otherwise the data's own span, widened when it is degenerate.
export function xRangeOf(xRange, dataMin, dataMax) {
  const given = typeof xRange === "function" ? xRange() : xRange;
  if (Array.isArray(given) && given.every(Number.isFinite) && given[1] > given[0]) return given;
  if (!Number.isFinite(dataMin) || !Number.isFinite(dataMax)) {
    const now = Date.now() / 1000;
    return [now - 2 * PAD_S, now];
  }
  if (dataMax - dataMin >= MIN_SPAN_S) return [dataMin, dataMax];
  return [dataMin - PAD_S, dataMax + PAD_S];
}

// series: [{label, color?, dash?: [n, n], points?: false, bars?: false}]
// data: [xs (epoch s), ys1, ys2, ...]
// xRange: see xRangeOf.
export function timeChart(container, series, data, { height = 220, yLabel = "", xRange = null } = {}) {
  const width = Math.max(300, container.clientWidth || 600);
  const options = {
    width,
    height,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true, range: (u, dataMin, dataMax) => xRangeOf(xRange, dataMin, dataMax) } },
    axes: [{}, { label: yLabel, size: 60 }],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || colour(i),
        width: 2,
        dash: s.dash,
        spanGaps: true,
        points: { show: s.points ?? false },
        ...(s.bars ? { paths: uPlot.paths.bars({ size: [0.6, 40] }), fill: `${s.color || colour(i)}55` } : {}),
      })),
    ],
  };
  const plot = new uPlot(options, data, container);
  container.plot = plot; // reachable from the page (browser tests, the developer console)
  const resize = () => plot.setSize({ width: Math.max(300, container.clientWidth || 600), height });
  window.addEventListener("resize", resize);
  return {
    plot,
    setData(next) {
      plot.setData(next);
    },
    destroy() {
      window.removeEventListener("resize", resize);
      plot.destroy();
    },
  };
}

// Merge series given as [{xs, ys}] onto one sorted x axis (uPlot wants aligned data).
export function align(seriesList) {
  const xs = [...new Set(seriesList.flatMap((s) => s.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = seriesList.map((s) => {
    const ys = new Array(xs.length).fill(null);
    s.xs.forEach((x, i) => {
      ys[index.get(x)] = s.ys[i];
    });
    return ys;
  });
  return [xs, ...columns];
}

// Planned series start at `start` (epoch s or RFC 3339) with one value per slot.
export function slotTimes(start, slotMinutes, count) {
  const t0 = typeof start === "number" ? start : Date.parse(start) / 1000;
  if (!Number.isFinite(t0)) return null;
  return Array.from({ length: count }, (_, i) => t0 + i * slotMinutes * 60);
}
