// The playground: each selected optimizer descends the chosen 2-D function from the same
// start, with the library's kernels running in the page (wasm, or js where WebAssembly SIMD is
// missing). window.playground exposes the same controls to scripts (and to the tests).
import {
  ParameterStore, OPTIMIZERS, createOptimizer,
  OneCycleLR, CosineAnnealingLR, ExponentialLR, oneCycleSchedule, cosineSchedule, exponentialSchedule, detmath,
} from '../dist/index.js';

const FUNCTIONS = {
  rosenbrock: {
    label: 'Rosenbrock', view: [-2, 2, -1, 3], start: [-1.5, 2], min: [1, 1],
    f: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    g: (x, y) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
    lr: { sgd: 1e-3, momentum: 5e-4, adagrad: 0.3, rms: 0.01, adam: 0.05, lion: 0.01 },
  },
  beale: {
    label: 'Beale', view: [-4.5, 4.5, -4.5, 4.5], start: [1, 1.5], min: [3, 0.5],
    f: (x, y) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2,
    g: (x, y) => {
      const a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y ** 3;
      return [2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1), 2 * a * x + 4 * b * x * y + 6 * c * x * y * y];
    },
    lr: { sgd: 1e-3, momentum: 5e-4, adagrad: 0.3, rms: 0.01, adam: 0.05, lion: 0.01 },
  },
  saddle: {
    label: 'saddle: x² + y⁴/4 − y²/2', view: [-2, 2, -2, 2], start: [1.8, 0.002], min: [0, 1],
    f: (x, y) => x * x + y ** 4 / 4 - y * y / 2,
    g: (x, y) => [2 * x, y ** 3 - y],
    lr: { sgd: 0.05, momentum: 0.02, adagrad: 0.5, rms: 0.02, adam: 0.05, lion: 0.02 },
  },
  bowl: {
    label: 'ill-conditioned bowl: x² + 50y²', view: [-5, 5, -2, 2], start: [-4.5, 1.5], min: [0, 0],
    f: (x, y) => x * x + 50 * y * y,
    g: (x, y) => [2 * x, 100 * y],
    lr: { sgd: 0.015, momentum: 0.005, adagrad: 1, rms: 0.05, adam: 0.1, lion: 0.02 },
  },
};

// Every optimizer of the library's registry, in its order, colored from the palette by index.
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#393b79', '#ad494a', '#637939', '#8c6d31', '#7b4173', '#3182bd', '#e6550d', '#31a354', '#756bb1', '#636363'];
/** The optimizers shown when the page opens. */
const ON = ['momentum', 'nag', 'adagrad', 'rmsprop', 'adam'];
const SHOWN = OPTIMIZERS.map((entry, i) => ({ key: entry.key, label: entry.label, entry, color: PALETTE[i % PALETTE.length], on: ON.includes(entry.key) }));

/** Which of a function's tuned rates (`lr.<kind>`) an optimizer starts from; the others start from the registry's lr. */
const KIND = { sgd: 'sgd', momentum: 'momentum', nag: 'momentum', adagrad: 'adagrad', rmsprop: 'rms', adam: 'adam', adamw: 'adam', nadam: 'adam', adamax: 'adam', lion: 'lion' };
const defaultLr = (f, o) => f.lr[KIND[o.key]] ?? o.entry.lr;

const $ = (id) => document.getElementById(id);
const state = { fn: 'rosenbrock', runners: [], running: false, step: 0, backend: '' };

function lrFor(name) {
  const input = $(`lr-${name}`);
  return Number(input.value);
}

function buildControls() {
  for (const [k, f] of Object.entries(FUNCTIONS)) $('fn').append(new Option(f.label, k));
  for (const o of SHOWN) {
    const k = o.key;
    const label = document.createElement('label');
    label.innerHTML = `<input type="checkbox" id="on-${k}" ${o.on ? 'checked' : ''}> <span style="color:${o.color}">■</span> ${o.label} <input type="number" id="lr-${k}" step="any">`;
    $('opts').append(label);
  }
  setDefaultLrs();
  $('fn').onchange = () => { state.fn = $('fn').value; setDefaultLrs(); reset(); };
  $('schedule').onchange = () => { drawPreview(); reset(); };
  $('steps').onchange = () => { drawPreview(); reset(); };
  $('start').onclick = () => { state.running = true; loop(); };
  $('pause').onclick = () => { state.running = false; };
  $('reset').onclick = () => reset();
  for (const { key: k } of SHOWN) { $(`on-${k}`).onchange = () => reset(); $(`lr-${k}`).onchange = () => reset(); }
}

function setDefaultLrs() {
  const f = FUNCTIONS[state.fn];
  for (const o of SHOWN) $(`lr-${o.key}`).value = defaultLr(f, o);
}

function scheduleFor(o, opt, total) {
  const kind = $('schedule').value;
  if (kind === 'onecycle') return new OneCycleLR(opt, { maxLr: opt.paramGroups[0].lr, totalSteps: total, cycleMomentum: o.entry.momentum !== undefined });
  if (kind === 'cosine') return new CosineAnnealingLR(opt, { tMax: total });
  if (kind === 'exponential') return new ExponentialLR(opt, { gamma: detmath.pow(0.01, 1 / total) });
  return undefined;
}

async function reset() {
  state.running = false;
  state.step = 0;
  const f = FUNCTIONS[state.fn];
  const total = Number($('steps').value);
  const runners = [];
  for (const o of SHOWN) {
    const k = o.key;
    if (!$(`on-${k}`).checked) continue;
    const store = await ParameterStore.create();
    state.backend = store.backend;
    const p = store.parameter('xy', f.start);
    const opt = createOptimizer(o.entry, [p], { lr: lrFor(k) });
    runners.push({ key: k, o, store, p, opt, sched: scheduleFor(o, opt, total), path: [[...f.start]], losses: [f.f(...f.start)] });
  }
  for (const r of state.runners) r.store.dispose();
  state.runners = runners;
  draw();
}

function stepAll(n) {
  const f = FUNCTIONS[state.fn];
  const total = Number($('steps').value);
  for (let i = 0; i < n && state.step < total; i++) {
    for (const r of state.runners) {
      const gradient = () => {
        const [x, y] = r.p.data;
        const g = f.g(x, y);
        r.p.grad[0] = g[0];
        r.p.grad[1] = g[1];
        return f.f(x, y);
      };
      // L-BFGS evaluates the function through a closure, as often as its step needs.
      if (r.o.entry.closure) r.opt.step(gradient);
      else {
        gradient();
        r.opt.step();
      }
      r.sched?.step();
      const [nx, ny] = r.p.data;
      r.path.push([nx, ny]);
      r.losses.push(f.f(nx, ny));
    }
    state.step++;
  }
}

function loop() {
  if (!state.running) return;
  stepAll(Number($('speed').value));
  draw();
  if (state.step >= Number($('steps').value)) state.running = false;
  else requestAnimationFrame(loop);
}

let background;
function draw() {
  const f = FUNCTIONS[state.fn];
  const c = $('plot'), ctx = c.getContext('2d');
  const [x0, x1, y0, y1] = f.view;
  const px = (x) => ((x - x0) / (x1 - x0)) * c.width, py = (y) => c.height - ((y - y0) / (y1 - y0)) * c.height;
  if (!background || background.fn !== state.fn) {
    const img = ctx.createImageData(c.width, c.height);
    let lo = Infinity, hi = -Infinity;
    const vals = new Float64Array(c.width * c.height);
    for (let j = 0; j < c.height; j++) for (let i = 0; i < c.width; i++) {
      const v = f.f(x0 + ((i + 0.5) / c.width) * (x1 - x0), y1 - ((j + 0.5) / c.height) * (y1 - y0));
      vals[j * c.width + i] = v; lo = Math.min(lo, v); hi = Math.max(hi, v);
    }
    for (let k = 0; k < vals.length; k++) {
      const t = Math.log1p(vals[k] - lo) / Math.log1p(hi - lo);
      const band = Math.floor(t * 24) % 2 ? 0.94 : 1;
      img.data[4 * k] = 255 * (0.55 + 0.45 * t) * band; img.data[4 * k + 1] = 255 * (0.75 + 0.2 * (1 - t)) * band; img.data[4 * k + 2] = 255 * (0.95 - 0.35 * t) * band; img.data[4 * k + 3] = 255;
    }
    background = { fn: state.fn, img };
  }
  ctx.putImageData(background.img, 0, 0);
  ctx.fillStyle = '#000';
  ctx.beginPath(); ctx.arc(px(f.min[0]), py(f.min[1]), 5, 0, 2 * Math.PI); ctx.fill();
  ctx.fillText('minimum', px(f.min[0]) + 8, py(f.min[1]) - 6);
  for (const r of state.runners) {
    ctx.strokeStyle = r.o.color; ctx.lineWidth = 2; ctx.beginPath();
    r.path.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
    ctx.stroke();
    const [x, y] = r.path[r.path.length - 1];
    ctx.fillStyle = r.o.color; ctx.beginPath(); ctx.arc(px(x), py(y), 4, 0, 2 * Math.PI); ctx.fill();
  }
  $('legend').innerHTML = state.runners.map((r) => `<span style="color:${r.o.color}">■ ${r.o.label}: f = ${r.losses[r.losses.length - 1].toExponential(2)}</span>`).join('');
  $('status').textContent = `step ${state.step} / ${$('steps').value}, backend ${state.backend}, schedule ${$('schedule').value}`;
  drawLosses();
}

function drawLosses() {
  const c = $('losses'), ctx = c.getContext('2d');
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, c.width, c.height);
  const all = state.runners.flatMap((r) => r.losses).filter((v) => v > 0 && Number.isFinite(v));
  if (!all.length) return;
  const lo = Math.log10(Math.min(...all)), hi = Math.log10(Math.max(...all)) + 1e-9;
  const total = Number($('steps').value);
  ctx.fillStyle = '#222'; ctx.fillText('f (log scale) per step', 8, 14);
  for (const r of state.runners) {
    ctx.strokeStyle = r.o.color; ctx.beginPath();
    r.losses.forEach((v, i) => {
      const x = 30 + (i / total) * (c.width - 40), y = 20 + (1 - (Math.log10(Math.max(v, 1e-300)) - lo) / (hi - lo)) * (c.height - 40);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
}

function drawPreview() {
  const c = $('preview'), ctx = c.getContext('2d');
  const total = Number($('steps').value), kind = $('schedule').value;
  const s = kind === 'onecycle' ? oneCycleSchedule({ maxLr: 1, totalSteps: total }).lr
    : kind === 'cosine' ? cosineSchedule({ baseLr: 1, tMax: total })
      : kind === 'exponential' ? exponentialSchedule({ baseLr: 1, gamma: detmath.pow(0.01, 1 / total) }) : () => 1;
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, c.width, c.height);
  ctx.strokeStyle = '#1f77b4'; ctx.beginPath();
  for (let i = 0; i < c.width; i++) {
    const v = s(Math.min(total - 1, Math.floor((i / c.width) * total)));
    const y = c.height - 6 - v * (c.height - 12);
    i ? ctx.lineTo(i, y) : ctx.moveTo(i, y);
  }
  ctx.stroke();
  ctx.fillStyle = '#555'; ctx.fillText('lr ÷ peak', 4, 12);
}

buildControls();
drawPreview();
await reset();

window.playground = {
  functions: Object.keys(FUNCTIONS),
  optimizers: SHOWN.map((o) => o.key),
  /** Picks a function (and its default learning rates), then resets. */
  async select(fn, schedule = 'constant') { $('fn').value = fn; state.fn = fn; $('schedule').value = schedule; setDefaultLrs(); drawPreview(); await reset(); },
  /** Runs `n` steps at once and redraws. */
  run(n) { stepAll(n); draw(); },
  /** Where each optimizer is, where it started, and its loss. */
  state() {
    const f = FUNCTIONS[state.fn];
    return { step: state.step, backend: state.backend, min: f.min, runners: state.runners.map((r) => ({ name: r.key, start: r.path[0], at: r.path[r.path.length - 1], loss: r.losses[r.losses.length - 1], startLoss: r.losses[0] })) };
  },
};
window.__ready = true;
