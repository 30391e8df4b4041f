// The demo page: a drawing pad and a few real MNIST digits, classified by two modules compiled by
// slimc (the full and the pruned MNIST network), through their public API only: load, info,
// predict, dispose. window.slimcDemo holds the state for the console and the browser test.
const params = new URLSearchParams(location.search);
const modelsUrl = new URL(params.get('models') ?? './models/', location.href);
const threads = Number(params.get('threads') ?? 1);
const SIDE = 28;
// MNIST's pixel mean and standard deviation: the networks were trained on normalised pixels.
const MEAN = 0.1307;
const STD = 0.3081;
const RUNS_KEPT = 50;

const state = (window.slimcDemo = { ready: false, error: undefined, last: undefined, predictions: 0 });
const pad = document.getElementById('pad');
const seen = document.getElementById('seen');
const ctx = pad.getContext('2d', { willReadFrequently: true });
const footer = document.getElementById('backend');

function clearPad() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}

/** 8-bit greyscale pixels (0..255) shown on a canvas, scaled to its size. */
function drawPixels(canvas, pixels) {
  const small = new ImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    small.data.set([pixels[i], pixels[i], pixels[i], 255], 4 * i);
  }
  const c = canvas.getContext('2d');
  if (canvas.width === SIDE) {
    c.putImageData(small, 0, 0);
  } else {
    const tmp = new OffscreenCanvas(SIDE, SIDE);
    tmp.getContext('2d').putImageData(small, 0, 0);
    c.imageSmoothingEnabled = false;
    c.drawImage(tmp, 0, 0, canvas.width, canvas.height);
  }
}

/**
 * The pad as MNIST prepares its digits: the ink's bounding box scaled to fit 20 x 20 (keeping its
 * aspect), then placed in 28 x 28 so that its centre of mass is at the centre.
 */
function padToPixels() {
  const { data } = ctx.getImageData(0, 0, pad.width, pad.height);
  let top = pad.height, left = pad.width, bottom = -1, right = -1;
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if (data[4 * (y * pad.width + x)] > 20) {
        top = Math.min(top, y); bottom = Math.max(bottom, y);
        left = Math.min(left, x); right = Math.max(right, x);
      }
    }
  }
  const pixels = new Uint8ClampedArray(SIDE * SIDE);
  if (bottom < 0) return pixels;
  const w = right - left + 1;
  const h = bottom - top + 1;
  const scale = 20 / Math.max(w, h);
  const fitted = new OffscreenCanvas(SIDE, SIDE);
  const f = fitted.getContext('2d', { willReadFrequently: true });
  f.imageSmoothingEnabled = true;
  f.imageSmoothingQuality = 'high';
  f.drawImage(pad, left, top, w, h, 0, 0, Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale)));
  const box = f.getImageData(0, 0, SIDE, SIDE).data;
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) {
    const v = box[4 * (y * SIDE + x)];
    mass += v; mx += v * x; my += v * y;
  }
  const dx = Math.round(SIDE / 2 - 0.5 - mx / mass);
  const dy = Math.round(SIDE / 2 - 0.5 - my / mass);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) {
    const sx = x - dx, sy = y - dy;
    if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) pixels[y * SIDE + x] = box[4 * (sy * SIDE + sx)];
  }
  return pixels;
}

const softmax = (logits) => {
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function showPrediction(panel, probs, ms, times) {
  const best = probs.indexOf(Math.max(...probs));
  panel.querySelector('.class').textContent = String(best);
  panel.querySelector('.confidence').textContent = `${(100 * probs[best]).toFixed(1)}% sure`;
  const bars = panel.querySelector('.bars');
  bars.replaceChildren(
    ...probs.map((p, k) => {
      const row = document.createElement('div');
      row.className = `bar${k === best ? ' top' : ''}`;
      const label = document.createElement('span');
      label.textContent = String(k);
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = `${Math.max(1, 200 * p).toFixed(0)}px`;
      const value = document.createElement('span');
      value.textContent = `${(100 * p).toFixed(1)}%`;
      row.append(label, fill, value);
      return row;
    }),
  );
  panel.querySelector('.latency').textContent =
    `this inference: ${ms.toFixed(2)} ms; median of the last ${times.length}: ${median(times).toFixed(2)} ms`;
  return best;
}

try {
  for (const a of document.querySelectorAll('a.report')) a.href = new URL(a.getAttribute('href').replace(/^models\//, ''), modelsUrl).href;
  const [fullModule, prunedModule, digits] = await Promise.all([
    import(new URL('full/model.js', modelsUrl).href),
    import(new URL('pruned/model.js', modelsUrl).href),
    fetch(new URL('./digits.json', location.href)).then((r) => r.json()),
  ]);
  // One backend serves both modules (tfjs has one engine per page), so both run on the same variant.
  const full = await fullModule.load({ threads });
  const pruned = await prunedModule.load({ threads });
  const models = [
    { name: 'full', model: full, panel: document.getElementById('full'), times: [] },
    { name: 'pruned', model: pruned, panel: document.getElementById('pruned'), times: [] },
  ];
  for (const m of models) {
    await m.model.warmup();
    const { params, macs } = m.model.info;
    m.panel.querySelector('.size').textContent = `${params.toLocaleString('en-US')} params, ${macs.toLocaleString('en-US')} MACs per digit`;
  }
  const { backend, runtime } = full.info;
  const convolutions =
    runtime.name !== 'plan'
      ? 'one tfjs kernel call per layer'
      : runtime.convolutions === 'slimc'
        ? `slimc's kernels${runtime.fma ? ', with fused multiply-adds (relaxed SIMD)' : ''}`
        : "XNNPACK's kernels";
  footer.textContent =
    `Backend: tfjs-backend-wasm, ${backend.variant} (SIMD ${backend.simd ? 'on' : 'off'}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'})` +
    `${backend.note ? ` (${backend.note})` : ''}; convolutions: ${convolutions}. Cross-origin isolated: ${globalThis.crossOriginIsolated === true ? 'yes' : 'no'}` +
    `${globalThis.crossOriginIsolated ? '' : ' (threads need the COOP/COEP headers serve.ts sends)'}. ` +
    `Latency is one predict call, batch 1, measured here; the machine and the browser set it.`;

  async function classify(pixels, label) {
    drawPixels(seen, pixels);
    const x = Float32Array.from(pixels, (v) => (v / 255 - MEAN) / STD);
    const result = { label };
    // Alternate which model goes first, so neither always runs on a warmer cache.
    const order = state.predictions % 2 ? [...models].reverse() : models;
    for (const m of order) {
      const start = performance.now();
      const logits = await m.model.predict(x);
      const ms = performance.now() - start;
      m.times.push(ms);
      if (m.times.length > RUNS_KEPT) m.times.shift();
      const probs = softmax(Array.from(logits));
      result[m.name] = { predicted: showPrediction(m.panel, probs, ms, m.times), ms };
    }
    const [f, p] = models;
    p.panel.querySelector('.latency').textContent += `; ${(median(f.times) / median(p.times)).toFixed(2)}x the full network's speed`;
    state.predictions += 1;
    state.last = result;
  }

  // A picked digit on the pad is replaced by the next stroke; strokes of a drawing add up.
  let padHoldsPick = false;
  const strip = document.getElementById('digits');
  digits.digits.forEach((d, index) => {
    const pixels = Uint8ClampedArray.from(d.pixels.match(/../g), (h) => parseInt(h, 16));
    const thumb = document.createElement('canvas');
    thumb.width = SIDE;
    thumb.height = SIDE;
    thumb.dataset.digitIndex = String(index);
    thumb.title = `MNIST sample ${d.sample} of class ${d.label}`;
    drawPixels(thumb, pixels);
    thumb.addEventListener('click', () => {
      for (const t of strip.children) t.classList.toggle('picked', t === thumb);
      clearPad();
      // Show the picked digit on the pad too, scaled up.
      drawPixels(pad, pixels);
      padHoldsPick = true;
      classify(pixels, d.label);
    });
    strip.append(thumb);
  });

  let drawing = false;
  let lastPoint = null;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    if (padHoldsPick) clearPad();
    for (const t of strip.children) t.classList.remove('picked');
    padHoldsPick = false;
    drawing = true;
    lastPoint = at(e);
    pad.setPointerCapture(e.pointerId);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const p = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...lastPoint);
    ctx.lineTo(...p);
    ctx.stroke();
    lastPoint = p;
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    classify(padToPixels(), null);
  };
  pad.addEventListener('pointerup', finish);
  pad.addEventListener('pointercancel', finish);
  document.getElementById('clear').addEventListener('click', () => {
    clearPad();
  });
  clearPad();
  state.backend = backend;
  state.isolated = globalThis.crossOriginIsolated === true;
  state.ready = true;
  window.addEventListener('pagehide', () => models.forEach((m) => m.model.dispose()));
} catch (e) {
  state.error = String(e?.message ?? e);
  footer.textContent = `failed: ${state.error} (did you run node --import tsx examples/web/build.ts?)`;
}
