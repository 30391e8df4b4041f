// Loads a compiled model (model.js from `slimc compile`), shows what runs, and times predict.
// The loaded model is left on window.slimc for the console (and for the browser test).
const params = new URLSearchParams(location.search);
const moduleUrl = new URL(params.get('model') ?? '/out/web-model/model.js', location.href).href;
const threads = Number(params.get('threads') ?? 1);
const status = document.getElementById('status');
const show = (text) => (status.textContent = text);

try {
  const { load } = await import(moduleUrl);
  const model = await load({ threads });
  window.slimc = { model };
  const [input] = model.info.inputs;
  const x = new Float32Array(input.shape.slice(1).reduce((a, b) => a * b, 1)).map(() => Math.random() - 0.5);
  await model.warmup();
  const times = [];
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    await model.predict(x);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const { backend } = model.info;
  show(`${model.info.name}: median predict ${times[15].toFixed(2)} ms over 30 runs, batch 1, on ${backend.variant} with ${backend.threads} thread(s)` +
    (backend.note ? ` (${backend.note})` : '') + `; cross-origin isolated: ${globalThis.crossOriginIsolated === true}`);
  document.getElementById('info').textContent = JSON.stringify(model.info, null, 2);
  window.slimc.ready = true;
} catch (e) {
  window.slimc = { error: String(e?.message ?? e) };
  show(`failed: ${window.slimc.error}`);
}
