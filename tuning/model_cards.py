"""Write the model cards of the shipped models from their runs and scores.

    python tuning/model_cards.py --evaluation evaluation/shipped \
        --manifest ../shared/data/photos/manifest.csv [--last pix2pix]

Reads, per model, ``runs/ship-<name>/{config.json,history.csv}`` (what was
trained, for how long, with how much CPU time), ``<evaluation>/results.csv``
(the validation figures) and the photo pool's manifest (sources and
licences), and writes ``exported_models/<name>/README.md``. Every figure on a card comes from those
files; the failure modes are read off the same numbers.
"""

import argparse
import collections
import csv
import json
import os
import statistics

ARCHITECTURES = {
    "cae": "convolutional auto-encoder: strided-conv encoder, transposed-conv decoder, "
           "no skips",
    "dcnn": "plain deep CNN: a stack of same-resolution conv-BN-activation blocks",
    "unet": "U-Net: conv-BN-ReLU pairs per level, max-pool down, transposed-conv up, skip "
            "concatenations",
    "resnet": "ResNet v2 with pre-activation bottleneck blocks in strided stages, then "
              "up-sampling back to full size",
    "densenet": "DenseNet: dense blocks (each layer sees every earlier map) with transition "
                "down- and up-sampling",
    "pix2pix": "Pix2Pix generator: the U-Net above, trained against a PatchGAN "
               "discriminator (least-squares GAN loss) plus lambda x L1",
}
BUDGET_MINUTES = {"unet": 120, "pix2pix": 120}  # the others: 40
METRICS = [  # (results.csv column, label, digits)
    ("psnr", "PSNR dB", 2), ("ssim", "SSIM", 3), ("mae", "MAE", 4), ("mse", "MSE", 4),
    ("huber", "Huber", 4), ("bce", "BCE", 4), ("ciede2000", "ΔE2000 ↓", 2),
    ("ab_mae", "ab MAE ↓", 2), ("colorfulness", "colourfulness", 2),
    ("colorfulness_ratio", "CF ratio", 3), ("grayishness", "grayishness", 2),
    ("cast_a", "a* cast", 2), ("cast_b", "b* cast", 2), ("color_bleeding", "bleeding", 2),
    ("density_kl", "density KL ↓", 2),
]
GRAY = "gray output"
INIT_NOTE = ("a U-Net trained with the `unet` settings for 3,000 steps (15 epochs), so the "
             "adversarial term works on colour from the first step instead of relearning "
             "what L1 teaches; from a 600-step U-Net its colours lost to gray on ΔE2000.")


def mean_scores(results_csv):
    """Mean of every metric column per colorizer label."""
    per_model = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(results_csv) as f:
        for row in csv.DictReader(f):
            for key, value in row.items():
                if key not in ("model", "image") and value not in ("", None):
                    per_model[row["model"]][key].append(float(value))
    return {m: {k: statistics.fmean(v) for k, v in cols.items()} for m, cols in per_model.items()}


def training_record(run_dir):
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(run_dir, "history.csv")) as f:
        history = list(csv.DictReader(f))
    epochs = len(history)
    steps = epochs * config["steps_per_epoch"]
    wall = float(history[-1]["elapsed_seconds"])
    last_epoch = wall - (float(history[-2]["elapsed_seconds"]) if epochs > 1 else 0.0)
    best, monitor = chosen_epoch(config, history)
    cpu = history[-1].get("cpu_seconds")
    return dict(config=config, epochs=epochs, steps=steps, wall=wall,
                cpu=float(cpu) if cpu else None,
                throughput=config["steps_per_epoch"] * config["batch_size"] / last_epoch,
                best_epoch=best + 1, monitor=monitor, best_value=float(history[best][monitor]))


def chosen_epoch(config, history):
    """The epoch `model.keras` holds: the run's --select among eligible epochs."""
    from colorkeras.callbacks import reaches_minimums
    from colorkeras.train import SELECTIONS, selection_minimums

    monitor, mode = SELECTIONS[config.get("select", "psnr")]
    minimums = selection_minimums(config.get("min_colorfulness", 0.0))
    eligible = [i for i, row in enumerate(history)
                if row.get(monitor) and reaches_minimums(row, minimums)]
    if not eligible:
        raise SystemExit(f"{config['out']}: no epoch logged {monitor} and reached {minimums}")
    pick = max if mode == "max" else min
    return pick(eligible, key=lambda i: float(history[i][monitor])), monitor


def selection_text(record):
    """How the card's weights were chosen, in a sentence's second half."""
    config, value = record["config"], record["best_value"]
    if record["monitor"] == "val_psnr":
        what = f"the best validation PSNR ({value:.2f} dB"
    else:
        what = f"the lowest validation CIEDE2000 ({value:.2f}"
    if config.get("min_colorfulness"):
        what += (f") among the epochs whose colourfulness ratio reached "
                 f"{config['min_colorfulness']:g} (`--select {config['select']} "
                 f"--min-colorfulness {config['min_colorfulness']:g}`; figures from the "
                 "training pipeline's own validation on the val photos)")
    else:
        what += " in the training pipeline's own validation)"
    return f"the shipped weights are from epoch {record['best_epoch']}, {what}."


def data_summary(manifest):
    with open(manifest) as f:
        train = [r for r in csv.DictReader(f) if r["file"].startswith("train/")]
    sources = collections.Counter(r["source"] for r in train)
    top = ", ".join(f"{name} {count}" for name, count in sources.most_common(6))
    return (f"{len(train):,} photos of the pool's train split from {len(sources)} sources "
            f"(largest: {top}). Licences, per file in the pool's `manifest.csv`: public "
            "domain, CC0, CC-BY, CC-BY-SA, MIT/BSD, LGPL, GPL-2+, AGPL-3.0 and per-package "
            "licences; no photo is redistributed with the model.")


def failure_modes(name, s, gray):
    """Bullets read off the validation means."""
    modes = []
    if s["ciede2000"] >= gray["ciede2000"]:
        modes.append(f"**Worse than a gray output on ΔE2000** ({s['ciede2000']:.2f} against "
                     f"{gray['ciede2000']:.2f}): its colours are more often wrong than absent.")
    if s["colorfulness_ratio"] < 0.6:
        modes.append(f"**Grayish, washed-out colour**: colourfulness {s['colorfulness_ratio']:.2f}"
                     " of the truth's, the regression models' known failure.")
    for axis, label, neg, pos in (("cast_a", "a*", "green", "red/magenta"),
                                  ("cast_b", "b*", "blue", "yellow/sepia")):
        if abs(s[axis]) > 2:
            tint = pos if s[axis] > 0 else neg
            bound = "beyond the ±5 floor" if abs(s[axis]) > 5 else "within the ±5 floor"
            modes.append(f"{label} cast {s[axis]:+.1f} ({tint}), {bound}.")
    if s["color_bleeding"] > 1.1:
        modes.append(f"**Colour bleeding**: the ab error within 2 px of luminance edges is "
                     f"{s['color_bleeding']:.2f}x the error elsewhere.")
    modes.append("**Sepia prior** (seen on the sample sheet): skies, snow and water come out "
                 "beige or brown instead of blue; the pool's average colour is yellowish (b* "
                 "+8.5) and a short training learns that average before its blues.")
    modes.append("Trained on 128x128 crops of photos 256 px on the shorter side: context wider "
                 "than a crop (sky or wall? skin or wood?) is often missed, and the pool is "
                 "mostly food, plant, game and clip-art photos, so people and street scenes "
                 "are weak.")
    return modes


def floor_lines(name, s, gray, scores):
    lines = [
        f"- ΔE2000 below the gray output's: "
        f"{'met' if s['ciede2000'] < gray['ciede2000'] else 'missed'}"
        f" ({s['ciede2000']:.2f} against {gray['ciede2000']:.2f}).",
        f"- a* and b* bias within ±5: "
        f"{'met' if max(abs(s['cast_a']), abs(s['cast_b'])) <= 5 else 'missed'}"
        f" ({s['cast_a']:+.1f} / {s['cast_b']:+.1f}).",
    ]
    if name == "pix2pix" and "unet" in scores:
        unet_cf = scores["unet"]["colorfulness_ratio"]
        ok = s["colorfulness_ratio"] >= 0.6 and s["colorfulness_ratio"] > unet_cf
        lines.append(f"- Colourfulness ratio at least 0.6 and above the U-Net's: "
                     f"{'met' if ok else 'missed'} ({s['colorfulness_ratio']:.3f} against "
                     f"0.6 and {unet_cf:.3f}).")
    return lines


def table(rows):
    head = "| colorizer | " + " | ".join(label for _, label, _ in METRICS) + " |"
    sep = "|---|" + "---|" * len(METRICS)
    body = [f"| {label} | " + " | ".join(
        f"{s[key]:.{digits}f}" if key in s else "" for key, _, digits in METRICS) + " |"
        for label, s in rows]
    return "\n".join([head, sep, *body])


def command_line(config, photos):
    parts = [f"--model {config['model']}", f"--color-space {config['color_space']}",
             f"--loss {config['loss']}", f"--learning-rate {config['learning_rate']}"]
    parts += [f"--hparam {k}={v}" for k, v in config["hparams"].items()]
    if config["model"] == "pix2pix":
        parts += [f"--lambda {config['lambda_']}", f"--gan-loss {config['gan_loss']}",
                  f"--d-learning-rate {config['d_learning_rate']}"]
        parts += [f"--d-hparam {k}={v}" for k, v in config["d_hparams"].items()]
    parts += [f"--data {photos}", f"--image-size {config['image_size']}",
              f"--crop-size {config['crop_size']}", f"--batch-size {config['batch_size']}",
              f"--epochs {config['epochs']}", f"--steps-per-epoch {config['steps_per_epoch']}",
              f"--seed {config['seed']}"]
    if config.get("mixed_precision"):
        parts.append("--mixed-precision")
    if config.get("time_limit"):
        parts.append(f"--time-limit {config['time_limit']:g}")
    if config.get("cpu_limit"):
        parts.append(f"--cpu-limit {config['cpu_limit']:g}")
    if config.get("select", "psnr") != "psnr":
        parts.append(f"--select {config['select']}")
    if config.get("min_colorfulness"):
        parts.append(f"--min-colorfulness {config['min_colorfulness']:g}")
    if config.get("init_from"):
        parts.append(f"--init-from {config['init_from']}")
    parts.append(f"--out {config['out']}")
    lines, line = [], "python -m colorkeras.train"
    for part in parts:
        if len(line) + len(part) > 88:
            lines.append(line + " \\")
            line = "   "
        line += " " + part
    return "\n".join([*lines, line])


def card(name, record, scores, data, sheet, photos, last=False, note=None):
    config, s, gray = record["config"], scores[name], scores[GRAY]
    cpu = record["cpu"]
    truth_cf = s["truth_colorfulness"]
    budget = BUDGET_MINUTES.get(name, 40)
    keras_mb = os.path.getsize(f"exported_models/{name}/{name}.keras") / 1e6
    cpu_text = (f"{cpu / 60:.0f} CPU-minutes (all threads; the 2 cores give 2 CPU-minutes "
                f"per minute)" if cpu else "not recorded")
    met = record["wall"] / 60 >= budget and cpu and cpu / 60 >= 2 * budget
    target = "lab" if config["color_space"] == "lab" else config["color_space"]
    lines = [
        f"# `{name}`: {ARCHITECTURES[name].split(':')[0]} ({config['loss']} on {target})",
        "",
        f"Trained on the project's photo pool for {record['wall'] / 60:.0f} minutes of wall time "
        f"({cpu_text}), sharing the machine's 2 CPU cores with the other shipped models' runs. "
        + ("The training budget of the project (" if not met else "Budget (")
        + f"{budget} minutes of both cores) is "
        + ("met." if met else "**not yet met**: resume the run with "
           "`bash tuning/retrain_shipped.sh PHOTOS " + name + "` to train it further."),
        "",
        "```python",
        "import colorkeras",
        f'model = colorkeras.load("{name}")   # gray [N,H,W,1] in [0,1] -> RGB [N,H,W,3]',
        'rgb = colorkeras.colorize("photo.jpg", model=model)',
        "```",
        "",
        "## Model",
        "",
        f"- Architecture: {ARCHITECTURES[name]}.",
        f"- Hyperparameters: {', '.join(f'{k}={v}' for k, v in config['hparams'].items())}; "
        "builder defaults otherwise (`colorkeras.models.hparams_of"
        f"(\"{'unet' if name == 'pix2pix' else name}\")`).",
        f"- Parameters: {config['parameters']:,}"
        + (" (generator; the PatchGAN is used only in training)." if name == "pix2pix" else "."),
        f"- Colour space: {config['color_space']} — the network predicts the chroma "
        + ("a*/110, b*/110 of CIE Lab" if config["color_space"] == "lab"
           else "U/0.436, V/0.615 of BT.601 YUV")
        + " from the luma, and the output keeps the input's luminance. Chosen by the quick "
        "grid's validation (`tuning/results/quick-all-photos/summary.md`).",
        "- Fully convolutional: trained on 128x128 crops, runs at any size.",
        f"- Files: `{name}.keras` ({keras_mb:.1f} MB, float32 weights), `1/` (SavedModel for "
        "TF Serving: signatures `serving_default` and `colorize_encoded`, render size 256).",
        "",
        "## Training",
        "",
        f"- Steps: {record['steps']:,} of {config['batch_size']} random 128x128 crops "
        f"({record['epochs']} epochs of {config['steps_per_epoch']}); "
        + (f"the shipped weights are the last epoch's (`last.keras`), not the epoch "
           f"{record['best_epoch']} that the run's --select chose."
           if last else selection_text(record)),
        f"- Wall time {record['wall'] / 60:.1f} min; {cpu_text}; final throughput "
        f"{record['throughput']:.1f} images/s over the last epoch (the runs shared the 2 cores "
        f"for most of their time, so earlier epochs ran slower).",
        *([f"- {note}"] if note else []),
        "- Hardware: 2 vCPUs of an AMD EPYC (Zen 4) at 2.6 GHz, 24 GB RAM, no GPU; "
        "TensorFlow 2.21, Keras 3.15; mixed bfloat16 with fused batch norm."
        if config.get("mixed_precision") else
        "- Hardware: 2 vCPUs of an AMD EPYC (Zen 4) at 2.6 GHz, 24 GB RAM, no GPU; float32.",
        f"- Data: {data}",
        "- Augmentation: random crops and horizontal flips. Adam at a constant learning rate.",
        *([f"- Started from the weights of `{config['init_from']}`: {INIT_NOTE}"]
          if config.get("init_from") else []),
        "- Command (the same folder resumes):",
        "",
        "```bash",
        command_line(config, photos),
        "```",
        "",
        "## Validation figures",
        "",
        "175 photos of the pool's val split, shorter side resized to 256, 256x256 centre "
        "crop; the output keeps the input's luminance. MAE/MSE/Huber/BCE on RGB in [0, 1]; "
        "casts are mean output minus truth; bleeding is the ab error within 2 px of "
        "luminance edges over the error elsewhere; density KL compares a VAE's latent "
        "statistics of outputs and truths.",
        "",
        table([("gray output", gray), (name, s)]),
        "",
        f"Ground truth colourfulness: {truth_cf:.2f}.",
        "",
        "Quality floor of the project:",
        "",
        *floor_lines(name, s, gray, scores),
        "",
        f"![sample sheet: gray input, every shipped model, ground truth]({sheet})",
        "",
        "## Known failure modes",
        "",
        *[f"- {mode}" for mode in failure_modes(name, s, gray)],
        "",
    ]
    return "\n".join(lines)


def results_table(scores, records):
    """The README's table: every shipped model beside the gray output."""
    head = ("| model | steps | wall min | CPU min | PSNR | SSIM | ΔE2000 ↓ | ab MAE ↓ | CF ratio "
            "| a* / b* cast | bleeding | density KL ↓ |")
    lines = [head, "|---|" + "---:|" * 11]

    def figures(s):
        return (f"{s['psnr']:.2f} | {s['ssim']:.3f} | {s['ciede2000']:.2f} | {s['ab_mae']:.2f} | "
                f"{s['colorfulness_ratio']:.3f} | {s['cast_a']:+.1f} / {s['cast_b']:+.1f} | "
                f"{s['color_bleeding']:.2f} | "
                + (f"{s['density_kl']:.2f}" if "density_kl" in s else "") + " |")

    lines.append("| gray output | | | | " + figures(scores[GRAY]))
    for name, record in records.items():
        cpu = f"{record['cpu'] / 60:.0f}" if record["cpu"] else ""
        lines.append(f"| `{name}` | {record['steps']:,} | {record['wall'] / 60:.0f} | {cpu} | "
                     + figures(scores[name]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs")
    parser.add_argument("--evaluation", default="evaluation/shipped")
    parser.add_argument("--manifest", default="../shared/data/photos/manifest.csv")
    parser.add_argument("--photos", default="../shared/data/photos")
    parser.add_argument("--sheet", default="../../docs/results-sheet.jpg")
    parser.add_argument("--last", nargs="*", default=[],
                        help="models shipped from last.keras rather than model.keras")
    parser.add_argument("--note", action="append", default=[], metavar="NAME=TEXT",
                        help="a line for the Training section of one model's card")
    parser.add_argument("models", nargs="*", default=list(ARCHITECTURES))
    args = parser.parse_args()
    args.note = dict(item.split("=", 1) for item in args.note)
    scores = mean_scores(os.path.join(args.evaluation, "results.csv"))
    data = data_summary(args.manifest)
    records = {name: training_record(os.path.join(args.runs, f"ship-{name}"))
               for name in args.models}
    with open(os.path.join(args.evaluation, "readme_table.md"), "w") as f:
        f.write(results_table(scores, records) + "\n")
    print(os.path.join(args.evaluation, "readme_table.md"))
    for name in args.models:
        text = card(name, records[name], scores, data, args.sheet, args.photos,
                    last=name in args.last, note=args.note.get(name))
        with open(f"exported_models/{name}/README.md", "w") as f:
            f.write(text)
        print(f"exported_models/{name}/README.md")


if __name__ == "__main__":
    main()
