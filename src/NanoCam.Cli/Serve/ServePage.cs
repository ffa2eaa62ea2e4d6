namespace NanoCam.Cli.Serve;

/// <summary>
/// The one page of <c>nanocam serve</c>: self-contained (inline CSS and script, no CDN, no external request but the
/// server's own API). Drop or pick an image, read the top-5, pick class, method and layer, see the overlay, the raw map
/// and the channel weights. The last explanation's normalized map is kept in <c>#overlay</c>'s <c>data-map</c>.
/// </summary>
public static class ServePage
{
    public const string Html = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>nanocam serve</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1em 0 .4em; }
#drop { border: 2px dashed #999; border-radius: 8px; padding: 1.2em; text-align: center; background: #fafafa; }
#drop.over { background: #eef5ff; border-color: #36c; }
.row { display: flex; gap: 1.5em; flex-wrap: wrap; align-items: flex-start; }
.panel { flex: 1 1 16em; min-width: 16em; }
figure { margin: 0; } figcaption { font-size: .85em; color: #555; }
img.shown, canvas.shown { width: 256px; height: 256px; object-fit: contain; border: 1px solid #ccc; image-rendering: pixelated; background: #eee; }
label { display: block; margin: .4em 0 .1em; font-weight: 600; }
select, input, button { font: inherit; max-width: 100%; }
button { padding: .3em 1.2em; margin-top: .8em; }
#top5 li { font-variant-numeric: tabular-nums; }
#status { margin: .6em 0; min-height: 1.4em; }
#status[data-state=error] { color: #b00; }
#weights { width: 100%; max-width: 36em; height: 14em; border: 1px solid #ddd; }
.muted { color: #666; font-size: .9em; }
</style>
</head>
<body>
<h1>nanocam serve</h1>
<div class="muted" id="model-line">loading the model…</div>

<h2>1. An image</h2>
<div id="drop">Drop an image here, or <input type="file" id="file" accept="image/png,image/jpeg,image/bmp">
<span id="folder-box" hidden> or pick one from the folder: <select id="folder"><option value="">—</option></select></span></div>

<div class="row">
  <div class="panel">
    <h2>2. Top-5</h2>
    <figure><img id="input" class="shown" alt="the image"><figcaption id="input-caption">no image yet</figcaption></figure>
    <ol id="top5"></ol>
  </div>
  <div class="panel">
    <h2>3. Class, method, layer</h2>
    <label for="class">class</label><select id="class"></select>
    <label for="class-number">or any class by number</label><input id="class-number" type="number" min="0" placeholder="(use the choice above)">
    <label for="method">method</label><select id="method"></select>
    <label for="layer">layer</label><select id="layer"></select>
    <div><button id="explain" disabled>Explain</button></div>
    <div id="status" data-state="idle"></div>
  </div>
</div>

<h2>4. The explanation</h2>
<div class="row">
  <figure><img id="overlay" class="shown" alt="overlay"><figcaption id="overlay-caption">overlay</figcaption></figure>
  <figure><canvas id="raw" class="shown" width="1" height="1"></canvas><figcaption id="raw-caption">raw map ReLU(Σ<sub>k</sub> weight<sub>k</sub>·A<sup>k</sup>) at the layer's resolution</figcaption></figure>
</div>
<div id="weights-box" hidden>
  <h2>Channel weights</h2>
  <p class="muted" id="weights-caption"></p>
  <svg id="weights" role="img"></svg>
  <p class="muted" id="score-line"></p>
</div>

<script>
(() => {
  const $ = id => document.getElementById(id);
  const state = { blob: null, folderName: null, model: null };

  function setStatus(text, kind) { const s = $('status'); s.textContent = text; s.dataset.state = kind; }
  function fmt(v) { return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4); }
  function labelOf(c, label) { return label && label.trim() !== String(c) ? c + ' ' + label : String(c); }

  async function api(path, body) {
    const response = await fetch(path, body === undefined ? {} : { method: 'POST', body: body, headers: { 'Content-Type': 'application/octet-stream' } });
    let data = null;
    try { data = await response.json(); } catch (e) { data = { error: 'the server answered ' + response.status }; }
    if (!response.ok) throw new Error(data.error || ('the server answered ' + response.status));
    return data;
  }

  function requestPath(path, params) {
    const q = new URLSearchParams(params || {});
    if (state.folderName) q.set('image', state.folderName);
    const s = q.toString();
    return s ? path + '?' + s : path;
  }

  async function loadModel() {
    const m = await api('/api/model');
    state.model = m;
    $('model-line').textContent = m.model + ': ' + m.classes + ' classes, input ' + m.inputShape.join('×') + ', ' + m.layers.length + ' layers a CAM can target';
    for (const name of m.methods) $('method').add(new Option(name, name, name === 'gradcam', name === 'gradcam'));
    for (const layer of m.layers) $('layer').add(new Option(layer.name + ' [' + layer.shape.join(', ') + ']', layer.name, layer.name === m.defaultLayer, layer.name === m.defaultLayer));
    const folder = await api('/api/images');
    for (const name of folder.images) $('folder').add(new Option(name, name));
    $('folder-box').hidden = folder.images.length === 0;
  }

  async function predict() {
    setStatus('classifying…', 'busy');
    $('explain').disabled = true;
    const top = await api(requestPath('/api/predict'), state.folderName ? new Blob([]) : state.blob);
    const list = $('top5'), select = $('class');
    list.replaceChildren(); select.replaceChildren();
    for (const t of top.top) {
      const li = document.createElement('li');
      li.textContent = labelOf(t.class, t.label) + ' — ' + (100 * t.probability).toFixed(2) + ' %';
      list.appendChild(li);
      select.add(new Option(labelOf(t.class, t.label), String(t.class)));
    }
    $('explain').disabled = false;
    setStatus('pick a class, a method and a layer, then Explain', 'ready');
  }

  async function useImage(blob, folderName, caption) {
    state.blob = blob; state.folderName = folderName;
    const url = folderName ? '/api/images/' + encodeURIComponent(folderName) : URL.createObjectURL(blob);
    $('input').src = url;
    $('input-caption').textContent = caption;
    try { await predict(); } catch (e) { setStatus(e.message, 'error'); }
  }

  function jet(v) {
    const c = x => Math.round(255 * Math.max(0, Math.min(1, x)));
    return [c(1.5 - Math.abs(4 * v - 3)), c(1.5 - Math.abs(4 * v - 2)), c(1.5 - Math.abs(4 * v - 1))];
  }

  function drawRaw(map) {
    const canvas = $('raw');
    canvas.width = map.width; canvas.height = map.height;
    const ctx = canvas.getContext('2d'), pixels = ctx.createImageData(map.width, map.height);
    let max = 0;
    for (const v of map.values) max = Math.max(max, v);
    map.values.forEach((v, i) => {
      const [r, g, b] = jet(max > 0 ? v / max : 0);
      pixels.data.set([r, g, b, 255], 4 * i);
    });
    ctx.putImageData(pixels, 0, 0);
    $('raw-caption').textContent = 'raw map ' + map.width + '×' + map.height + ' at the layer, max ' + fmt(max);
  }

  function drawWeights(r) {
    const box = $('weights-box');
    if (!r.channelWeights) { box.hidden = true; return; }
    box.hidden = false;
    const w = r.channelWeights, order = w.map((v, k) => k).sort((a, b) => w[b] - w[a] || a - b).slice(0, 24);
    const svg = $('weights'), ns = 'http://www.w3.org/2000/svg', width = 560, height = 200, bar = width / order.length;
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + (height + 16));
    svg.replaceChildren();
    const top = Math.max(...order.map(k => Math.abs(w[k])), 1e-12);
    order.forEach((k, i) => {
      const rect = document.createElementNS(ns, 'rect'), h = height * Math.abs(w[k]) / top;
      rect.setAttribute('x', i * bar + 2); rect.setAttribute('width', bar - 4);
      rect.setAttribute('y', height - h); rect.setAttribute('height', h);
      rect.setAttribute('fill', w[k] >= 0 ? '#c33' : '#36c');
      const title = document.createElementNS(ns, 'title'); title.textContent = 'channel ' + k + ': ' + fmt(w[k]); rect.appendChild(title);
      const text = document.createElementNS(ns, 'text');
      text.setAttribute('x', i * bar + bar / 2); text.setAttribute('y', height + 13); text.setAttribute('font-size', '10'); text.setAttribute('text-anchor', 'middle');
      text.textContent = k;
      svg.append(rect, text);
    });
    const symbol = r.method === 'cam' ? 'w_k^c (the classifier\'s weights)' : 'α_k^c = (1/Z) Σ_ij ∂y^c/∂A^k_ij';
    $('weights-caption').textContent = 'The ' + order.length + ' largest of ' + w.length + ' channel weights ' + symbol + ', channel numbers below.';
    $('score-line').textContent = r.scoreFromMaps
      ? 'y^c rebuilt from the maps: Σ_k w_k^c·F^k + b_c = ' + fmt(r.scoreFromMaps.recomputed) + ' (bias ' + fmt(r.scoreFromMaps.bias) + '); the network says ' + fmt(r.scoreFromMaps.networkScore) + '.'
      : 'y^c = ' + fmt(r.score) + ' (this layer does not feed a GAP → linear head, so the score is not rebuilt from the maps).';
  }

  async function explain() {
    const params = { method: $('method').value, layer: $('layer').value };
    params.class = $('class-number').value !== '' ? $('class-number').value : $('class').value;
    setStatus('explaining…', 'busy');
    $('explain').disabled = true;
    try {
      const r = await api(requestPath('/api/explain', params), state.folderName ? new Blob([]) : state.blob);
      const overlay = $('overlay');
      overlay.dataset.map = r.map.values.join(',');
      overlay.dataset.mapWidth = r.map.width; overlay.dataset.mapHeight = r.map.height;
      overlay.dataset.class = r.class; overlay.dataset.method = r.method; overlay.dataset.layer = r.layer;
      await new Promise((resolve, reject) => { overlay.onload = resolve; overlay.onerror = () => reject(new Error('the overlay did not decode')); overlay.src = r.overlay; });
      $('overlay-caption').textContent = r.method + ' for ' + labelOf(r.class, r.label) + ' at ' + r.layer + ' (y^c = ' + fmt(r.score) + ')';
      drawRaw(r.rawMap);
      drawWeights(r);
      setStatus(r.warnings.length ? 'done; ' + r.warnings.join('; ') : 'done', 'done');
    } catch (e) {
      setStatus(e.message, 'error');
    } finally {
      $('explain').disabled = false;
    }
  }

  $('file').addEventListener('change', () => { const f = $('file').files[0]; if (f) useImage(f, null, f.name); });
  $('folder').addEventListener('change', () => { const n = $('folder').value; if (n) useImage(null, n, n); });
  const drop = $('drop');
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', e => { e.preventDefault(); drop.classList.remove('over'); const f = e.dataTransfer.files[0]; if (f) useImage(f, null, f.name); });
  // CAM reads the classifier's weights, which apply to one layer only: picking it moves the layer there.
  $('method').addEventListener('change', () => { if ($('method').value === 'cam' && state.model.camLayer) $('layer').value = state.model.camLayer; });
  $('explain').addEventListener('click', explain);
  loadModel().catch(e => setStatus(e.message, 'error'));
})();
</script>
</body>
</html>
""";
}
