"""A blind "Turing test" page: can a person tell real photos from colorized ones?

The page is one self-contained HTML file: images are embedded as base64 PNG
data URIs and the logic is plain JavaScript, so it opens from disk
(``file://``) or an e-mail attachment, with no server and no network. It shows
the pairs one at a time, the real photo on a side drawn at random (fixed by
the seed, so a page can be rebuilt identically); the person clicks the one
they believe is real. At the end it shows the *fooling rate*, the share of
pairs in which the colorized photo was taken for the real one (50% means the
two cannot be told apart), and offers the answers as a JSON download.

The answer key is in the page's script: the test is blind to the eye, not to
someone who reads the source.

Element ids, stable for scripts and tests: ``#choice-left`` /
``#choice-right`` (the buttons), ``#image-left`` / ``#image-right``,
``#progress``, ``#fooling-rate``, ``#download``; ``window.turing`` exposes
``trials`` (with each pair's ``real`` side) and ``answersJSON()``.
"""

import base64
import html
import io
import json
import random
import time

import numpy as np

from colorkeras.errors import InputError

FILENAME = "turing.html"


def png_data_uri(rgb):
    """An RGB image (uint8, or float in [0, 1]) as a ``data:image/png;base64,...`` URI."""
    from PIL import Image

    from colorkeras import images

    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        rgb = images.to_uint8(np.clip(rgb, 0.0, 1.0))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def make_trials(pairs, seed=0):
    """Shuffle the pairs and put each real photo on a random side.

    Args:
        pairs: list of ``(image_name, model_label, real_rgb, colorized_rgb)``.
        seed: fixes the order and the sides.

    Returns:
        A list of dicts ``{image, model, real, left, right}`` where ``real``
        is "left" or "right" and ``left`` / ``right`` are data URIs.
    """
    if not pairs:
        raise InputError("A Turing test needs at least one pair. Received: pairs=[]")
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    trials = []
    for index in order:
        name, model, real, fake = pairs[index]
        real_side = rng.choice(("left", "right"))
        real_uri, fake_uri = png_data_uri(real), png_data_uri(fake)
        left, right = (real_uri, fake_uri) if real_side == "left" else (fake_uri, real_uri)
        trials.append({"image": name, "model": model, "real": real_side,
                       "left": left, "right": right})
    return trials


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f4; color: #222; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; text-align: center; }
.pair { display: flex; gap: 1.5rem; justify-content: center; flex-wrap: wrap; }
figure { margin: 0; display: flex; flex-direction: column; gap: .6rem; align-items: center; }
img { width: min(44vw, 512px); height: min(44vw, 512px, 66vh); object-fit: contain;
      cursor: pointer; }
button { font-size: 1.05rem; padding: .55rem 1.2rem; cursor: pointer; }
table { margin: 1rem auto; border-collapse: collapse; }
td, th { padding: .3rem .8rem; border-bottom: 1px solid #ccc; }
#fooling-rate { font-size: 2rem; font-weight: bold; }
.hint { color: #666; }
"""

_SCRIPT = """
"use strict";
const trials = PAGE.trials;
const answers = [];
let current = 0;
let shownAt = 0;

function percent(rate) { return (Math.round(rate * 1000) / 10) + "%"; }

function show(index) {
  const t = trials[index];
  document.getElementById("image-left").src = t.left;
  document.getElementById("image-right").src = t.right;
  document.getElementById("progress").textContent =
    "Pair " + (index + 1) + " of " + trials.length;
  shownAt = performance.now();
}

function summary() {
  const fooled = answers.filter(a => a.fooled).length;
  const perModel = {};
  for (const a of answers) {
    const m = perModel[a.model] || (perModel[a.model] = {pairs: 0, fooled: 0});
    m.pairs += 1;
    m.fooled += a.fooled ? 1 : 0;
  }
  for (const m of Object.values(perModel)) m.fooling_rate = m.fooled / m.pairs;
  return {pairs: answers.length, fooled: fooled,
          fooling_rate: answers.length ? fooled / answers.length : 0, per_model: perModel};
}

function answersJSON() {
  return JSON.stringify(Object.assign(
    {title: PAGE.title, created: PAGE.created, seed: PAGE.seed}, summary(),
    {answers: answers}), null, 2);
}

function finish() {
  const s = summary();
  document.getElementById("trial-screen").hidden = true;
  document.getElementById("result-screen").hidden = false;
  document.getElementById("fooling-rate").textContent = "Fooling rate: " + percent(s.fooling_rate);
  document.getElementById("result-detail").textContent =
    "You took the colorized photo for the real one in " + s.fooled + " of " + s.pairs +
    " pairs. 50% means real and colorized could not be told apart.";
  const body = document.getElementById("per-model-rows");
  for (const [model, m] of Object.entries(s.per_model)) {
    const row = body.insertRow();
    row.insertCell().textContent = model;
    row.insertCell().textContent = m.fooled + " / " + m.pairs;
    row.insertCell().textContent = percent(m.fooling_rate);
  }
}

function choose(side) {
  if (current >= trials.length) return;
  const t = trials[current];
  answers.push({pair: current + 1, image: t.image, model: t.model, real_side: t.real,
                chosen: side, fooled: side !== t.real,
                seconds: Math.round(performance.now() - shownAt) / 1000});
  current += 1;
  if (current < trials.length) show(current); else finish();
}

function download() {
  const blob = new Blob([answersJSON()], {type: "application/json"});
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "turing_answers.json";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

for (const side of ["left", "right"]) {
  document.getElementById("choice-" + side).addEventListener("click", () => choose(side));
  document.getElementById("image-" + side).addEventListener("click", () => choose(side));
}
document.addEventListener("keydown", e => {
  if (e.key === "ArrowLeft" || e.key === "1") choose("left");
  if (e.key === "ArrowRight" || e.key === "2") choose("right");
});
document.getElementById("download").addEventListener("click", download);
window.turing = {trials: trials, answers: answers, answersJSON: answersJSON, summary: summary};
show(0);
"""


def render_page(trials, title="Which photo is real?", seed=0):
    """The page's HTML for trials made by `make_trials`."""
    payload = {"title": title, "seed": seed,
               "created": time.strftime("%Y-%m-%d %H:%M:%S"), "trials": trials}
    # "</" inside a <script> would end it early; JSON allows "<\\/" instead.
    data = json.dumps(payload).replace("</", "<\\/")
    heading = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<section id="trial-screen">
  <h1>{heading}</h1>
  <p class="hint">One photo of each pair is real, the other was colorized from its
  gray version. Click the one you think is real (or press &larr; / &rarr;).</p>
  <p id="progress"></p>
  <div class="pair">
    <figure><img id="image-left" alt="left photo">
      <button id="choice-left" type="button">Left is real</button></figure>
    <figure><img id="image-right" alt="right photo">
      <button id="choice-right" type="button">Right is real</button></figure>
  </div>
</section>
<section id="result-screen" hidden>
  <h1>Results</h1>
  <p id="fooling-rate"></p>
  <p id="result-detail"></p>
  <table id="per-model">
    <thead><tr><th>colorizer</th><th>fooled</th><th>fooling rate</th></tr></thead>
    <tbody id="per-model-rows"></tbody>
  </table>
  <button id="download" type="button">Download answers (JSON)</button>
</section>
</main>
<script>
const PAGE = {data};
{_SCRIPT}
</script>
</body>
</html>
"""


def write_page(path, pairs, seed=0, title="Which photo is real?"):
    """Write the Turing test page for ``pairs`` (see `make_trials`) to ``path``."""
    page = render_page(make_trials(pairs, seed), title=title, seed=seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
