"""`python -m colorkeras.evaluate`: reports, the density metric, the Turing page, bad inputs."""

import json
import pathlib
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import read_csv
from PIL import Image

from colorkeras import (color, data, density, evaluate, evaluation_report, metrics, scoring,
                        semantic, turing)
from colorkeras.colorizer import ColorizeRecipe

SIZE = 32
TINY = ["--image-size", str(SIZE), "--limit", "4", "--batch-size", "3", "--quiet"]
TINY_DENSITY = ["--density-size", "16", "--density-epochs", "1", "--density-steps", "2"]


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_networks):
    """Two tiny untrained networks, one a run folder's model.keras; a foreign model; garbage."""
    folder = tmp_path_factory.mktemp("models")
    unet = folder / "unet_tiny.keras"
    shutil.copyfile(tiny_networks("unet", "yuv"), unet)
    run = folder / "dcnn-run"
    run.mkdir()
    shutil.copyfile(tiny_networks("dcnn", "lab"), run / "model.keras")
    foreign = folder / "foreign.keras"
    inputs = keras.Input((None, None, 1))
    keras.Model(inputs, keras.layers.Conv2D(3, 1, name="head")(inputs)).save(foreign)
    garbage = folder / "garbage.keras"
    garbage.write_text("not a keras archive")
    return {"unet": str(unet), "dcnn": str(run / "model.keras"), "foreign": str(foreign),
            "garbage": str(garbage)}


@pytest.fixture(scope="module")
def evaluation(models, tmp_path_factory):
    """One full run: two models, the density VAE fitted, a 4-pair Turing page."""
    out = tmp_path_factory.mktemp("evaluation") / "out"
    code = evaluate.main(["--models", models["unet"], models["dcnn"], "--out", str(out),
                          "--turing", "4", "--fit-density", *TINY_DENSITY, *TINY])
    assert code == 0
    return out


def _rows(out):
    return read_csv(out / "results.csv")


def _table(summary, heading):
    """A Markdown table under ``heading`` as {first cell: [cells]}."""
    section = summary.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def _val_photos():
    """The sample's validation photos as the training pipeline cuts them."""
    pipeline = data.make_dataset("sample", "val", image_size=SIZE, crop_size=SIZE, batch_size=4)
    gray, rgb = next(iter(pipeline.dataset))
    return gray, rgb


def test_writes_every_file(evaluation):
    names = sorted(p.name for p in evaluation.iterdir())
    assert names == ["density_vae.keras", "results.csv", "sheet_001.png", "summary.md",
                     "turing.html"]
    with Image.open(evaluation / "sheet_001.png") as sheet:
        # 4 rows of photos; columns: gray input, two models, ground truth.
        assert sheet.width > 300 and sheet.height > sheet.width * 0.8


def test_csv_has_a_row_per_colorizer_and_photo_with_every_metric(evaluation):
    rows = _rows(evaluation)
    assert list(rows[0]) == ["model", "image", *metrics.METRIC_NAMES, "density_kl",
                             "truth_colorfulness"]
    labels = [row["model"] for row in rows]
    assert sorted(set(labels)) == sorted([scoring.GRAY, "unet_tiny", "dcnn-run"])
    assert len(rows) == 3 * 4
    for label in set(labels):
        assert len({row["image"] for row in rows if row["model"] == label}) == 4
    for row in rows:
        values = {k: float(v) for k, v in row.items() if k not in ("model", "image")}
        assert all(np.isfinite(v) for v in values.values())
        assert 5.0 < values["psnr"] < 100.0 and 0.0 < values["ssim"] <= 1.0
        assert values["ciede2000"] > 0.0 and values["density_kl"] >= 0.0
        if row["model"] == scoring.GRAY:
            assert values["colorfulness"] == pytest.approx(0.0, abs=1e-3)
            assert values["grayishness"] == pytest.approx(0.0, abs=1e-3)


def test_photos_are_cut_like_the_validation_pipeline(evaluation):
    """The gray row's PSNR, recomputed from `data.make_dataset`'s val crops, matches."""
    gray, rgb = _val_photos()
    expected = metrics.psnr(rgb, tf.concat([gray, gray, gray], axis=-1)).numpy()
    got = [float(r["psnr"]) for r in _rows(evaluation) if r["model"] == scoring.GRAY]
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_summary_has_the_floor_the_models_the_ceiling_and_csv_means(evaluation):
    summary = (evaluation / "summary.md").read_text()
    rows = _rows(evaluation)
    key = _table(summary, "## Key figures")
    assert list(key) == [scoring.GRAY, "unet_tiny", "dcnn-run", scoring.TRUTH]
    full = _table(summary, "## All metrics")
    for label in ("unet_tiny", scoring.GRAY):
        for name in ("psnr", "ciede2000", "density_kl"):
            mean = np.mean([float(r[name]) for r in rows if r["model"] == label])
            assert float(full[label][name]) == pytest.approx(mean, abs=1e-3)
    truth_cf = np.mean([float(r["truth_colorfulness"]) for r in rows])
    assert float(key[scoring.TRUTH]["colorfulness"]) == pytest.approx(truth_cf, abs=1e-3)
    assert truth_cf > 5.0  # real photos are colourful; the gray floor is 0
    assert key[scoring.TRUTH]["PSNR"] == "—"
    assert "structure more than colour" in summary
    assert summary.rstrip().endswith("None.")  # nothing skipped


def test_density_vae_is_saved_and_scores_the_csv_values(evaluation):
    vae = density.load_density(str(evaluation / "density_vae.keras"))
    assert isinstance(vae, density.DensityVAE) and vae.view_size == 16
    gray, rgb = _val_photos()
    gray_rgb = tf.concat([gray, gray, gray], axis=-1)
    kl = density.density_kl(vae, rgb, gray_rgb).numpy()
    got = [float(r["density_kl"]) for r in _rows(evaluation) if r["model"] == scoring.GRAY]
    np.testing.assert_allclose(got, kl, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(density.density_kl(vae, rgb, rgb).numpy(), 0.0, atol=1e-5)


def test_turing_page_from_the_command(evaluation):
    page = (evaluation / "turing.html").read_text()
    payload = json.loads(re.search(r"const PAGE = (\{.*?\});\n", page).group(1))
    trials = payload["trials"]
    assert len(trials) == 4 and payload["seed"] == 0
    images = {r["image"] for r in _rows(evaluation)}
    assert {t["image"] for t in trials} <= images
    assert {t["model"] for t in trials} == {"unet_tiny", "dcnn-run"}
    for t in trials:
        assert t["left"].startswith("data:image/png;base64,") and t["left"] != t["right"]
    assert not re.search(r"(src|href)=\"(https?:)?//", page) and "<link" not in page


def test_kl_divergence_closed_form():
    zero = tf.zeros([1, 2])
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension; KL(N(0, e^2) || N(0, 1)) = (e^2 - 1 - 2) / 2.
    assert density.kl_divergence(zero + 1.0, zero, zero, zero).numpy() == pytest.approx([1.0])
    got = density.kl_divergence(zero[:, :1], zero[:, :1] + 2.0, zero[:, :1], zero[:, :1])
    assert got.numpy() == pytest.approx([(np.exp(2.0) - 3.0) / 2.0], rel=1e-5)
    assert density.view(tf.zeros([2, 30, 50, 3]), 16).shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match="multiple"):
        density.DensityVAE(view_size=20, filters=(8, 8, 8))


def test_load_density_refuses_other_files(models):
    with pytest.raises(ValueError, match="not a density VAE"):
        density.load_density(models["unet"])
    with pytest.raises(FileNotFoundError):
        density.load_density("missing_vae.keras")


class _Fake(ColorizeRecipe):
    """A stand-in colorizer returning a fixed colour, at a chosen size."""

    def __init__(self, scale=1):
        self.scale = scale

    def rgb(self, gray):
        n, h, w = tf.unstack(tf.shape(gray)[:3])
        return tf.broadcast_to(tf.constant([0.7, 0.4, 0.3]), [n, h * self.scale,
                                                              w * self.scale, 3])


def test_outputs_keep_the_input_luminance():
    photos = tf.random.uniform([2, 8, 8, 3], 70, 150, dtype=tf.int32, seed=1)
    photos = tf.cast(photos, tf.uint8)
    rgb = scoring.colorize_photos(_Fake(), photos)
    gray = color.luminance(tf.cast(photos, tf.float32) / 255.0)
    # Three channels rounded to 8 bits move the luma by at most half a level.
    np.testing.assert_allclose(color.luminance(rgb), gray, atol=0.51 / 255)
    assert np.std(rgb.numpy(), axis=-1).mean() > 0.01  # the colour is kept


def test_turing_pairs_use_each_photo_once_per_model():
    kept = [scoring.Kept(i, f"p{i}", None, {"a": i, "b": -i}, {}) for i in range(3)]
    pairs = evaluation_report.turing_pairs(kept, ["a", "b"], 6)
    assert sorted((name, model) for name, model, _, _ in pairs) == sorted(
        (f"p{i}", m) for i in range(3) for m in "ab")
    assert [model for _, model, _, _ in evaluation_report.turing_pairs(kept, ["a", "b"], 3)] == [
        "a", "b", "a"]
    first = turing.make_trials([(n, m, np.zeros((2, 2, 3)), np.ones((2, 2, 3)))
                                for n, m, _, _ in pairs], seed=5)
    again = turing.make_trials([(n, m, np.zeros((2, 2, 3)), np.ones((2, 2, 3)))
                                for n, m, _, _ in pairs], seed=5)
    assert first == again  # the seed fixes order and sides
    real_uri = turing.png_data_uri(np.zeros((2, 2, 3)))
    assert all(t[t["real"]] == real_uri for t in first)


def test_skips_undecodable_files_and_takes_mixed_sizes(models, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, (w, h) in {"a.png": (40, 30), "b.jpg": (20, 50), "c.png": (64, 64)}.items():
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    out = tmp_path / "out"
    evaluate.main(["--models", models["unet"], "--data", str(folder), "--split", "all",
                   "--out", str(out), "--image-size", "16", "--quiet"])
    rows = _rows(out)
    assert sorted({r["image"] for r in rows}) == ["a.png", "b.jpg", "c.png"]
    assert len(rows) == 2 * 3
    skipped = (out / "summary.md").read_text().split("## Skipped files")[1]
    assert "- broken.jpg: cannot be decoded" in skipped


def test_full_resolution_runs_each_photo_at_its_size(models, tmp_path):
    out = tmp_path / "out"
    evaluate.main(["--models", models["unet"], "--full-resolution", "--limit", "2",
                   "--out", str(out), "--sheet-images", "1", "--quiet"])
    rows = _rows(out)
    assert len(rows) == 2 * 2
    summary = (out / "summary.md").read_text()
    assert "each photo at its own size" in summary
    assert [p.name for p in out.glob("sheet_*.png")] == ["sheet_001.png"]


def test_tfds_source_names_photos_by_split_and_index(models, tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    out = tmp_path / "out"
    with tfds.testing.mock_data(num_examples=3):
        evaluate.main(["--models", models["unet"], "--data", "tfds:tf_flowers", "--out", str(out),
                       "--image-size", "16", "--sheet-images", "0", "--quiet"])
    rows = _rows(out)
    assert [r["image"] for r in rows if r["model"] == "unet_tiny"] == [
        f"tfds:tf_flowers:val:{i}" for i in range(len(rows) // 2)]
    assert rows and not list(out.glob("sheet_*.png"))


@pytest.fixture
def fails(run_command):
    """``fails(argv, message)``: the command, in-process, exits 2 with one line naming it."""
    def check(argv, message):
        result = run_command(evaluate.main, *argv)
        assert result.code == 2
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines

    return check


@pytest.mark.parametrize("model, message", [
    ("missing.keras", "No such model file"),
    ("foreign", "Expected a colorkeras"),
    ("garbage", "cannot load model"),
    ("no-such-name", "Unknown model"),
])
def test_bad_models_give_one_line(models, tmp_path, fails, model, message):
    out = tmp_path / "out"
    fails(["--models", models.get(model, model), "--out", str(out), *TINY], message)
    assert not out.exists()  # nothing is written before every input proved valid


def test_bad_data_and_options_give_one_line(models, tmp_path, fails):
    empty = tmp_path / "empty"
    empty.mkdir()
    for split in ("val", "all"):
        fails(["--models", models["unet"], "--data", str(empty), "--split", split,
               "--out", str(tmp_path / "o")], "No ")
    fails(["--models", models["unet"], "--turing", "9", "--out", str(tmp_path / "o"), *TINY],
          "more pairs")
    fails(["--models", "--turing", "1", *TINY], "needs at least one model")
    fails(["--fit-density", "--density", "x.keras", *TINY], "not allowed with")
    fails(["--fit-density", "--density-size", "20", "--out", str(tmp_path / "o"), *TINY],
          "multiple of")
    fails(["--models", "--density", "missing_vae.keras", "--out", str(tmp_path / "o"), *TINY],
          "Density model not found")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    fails(["--models", models["unet"], "--out", str(busy), *TINY], "--overwrite")
    assert not (tmp_path / "o").exists()


def test_a_colorizer_that_changes_the_size_gives_one_line(monkeypatch, models, tmp_path, fails):
    from colorkeras import inference

    monkeypatch.setattr(inference, "load", lambda path: _Fake(scale=2))
    fails(["--models", models["unet"], "--out", str(tmp_path / "o"), *TINY],
          "must return RGB of its input's size")


# `python -m colorkeras.evaluate` reporting a missing model in one line, as a real
# process with TensorFlow's start-up: test_cli.test_commands_print_no_tensorflow_start_up_lines.


def _photo_folder(tmp_path, names, black_and_white=()):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in names:
        with Image.open(data.SAMPLE_DIR / name) as photo:
            photo.convert("RGB").save(folder / name)
    for name in black_and_white:
        with Image.open(data.SAMPLE_DIR / name) as photo:
            photo.convert("L").convert("RGB").save(folder / f"bw-{name}")
    return folder


def test_a_black_and_white_photo_keeps_the_cf_ratio_a_ratio_of_means(models, tmp_path):
    """A near-gray truth once sent the summary's mean of per-photo ratios to 349."""
    names = sorted(p.name for p in data.SAMPLE_DIR.glob("*.jpg"))[:3]
    folder = _photo_folder(tmp_path, names, black_and_white=names[:1])
    out = tmp_path / "out"
    assert evaluate.main(["--models", models["unet"], "--data", str(folder), "--split", "all",
                          "--out", str(out), "--sheet-images", "0", *TINY]) == 0
    rows = _rows(out)
    key = _table((out / "summary.md").read_text(), "## Key figures")
    mine = [r for r in rows if r["model"] == "unet_tiny"]
    expected = (np.mean([float(r["colorfulness"]) for r in mine])
                / np.mean([float(r["truth_colorfulness"]) for r in mine]))
    assert float(key["unet_tiny"]["CF ratio"]) == pytest.approx(expected, abs=2e-3)
    assert 0 < float(key["unet_tiny"]["CF ratio"]) < 2
    assert float(key[scoring.GRAY]["CF ratio"]) == 0
    bw = [r for r in mine if r["image"].startswith("bw-")]
    assert bw and bw[0]["colorfulness_ratio"] == "nan"  # undefined for a gray truth


class _ColourJudge:
    """A stand-in ImageNet classifier that knows a balloon by its colour alone.

    Gray in, class 0; any colour in, the balloon's class. So the semantic
    columns must read 0 for the gray output and 1 for the truth and for a
    colourful output: a judge run on the wrong images, or a wrong class
    compared, shows. The real classifier is checked in test_efficientnet_lite.
    """

    def __init__(self, balloon):
        self.balloon = balloon
        self.batches = 0

    def top1(self, rgb):
        self.batches += 1
        rgb = np.asarray(rgb)
        chroma = np.abs(rgb - rgb.mean(axis=-1, keepdims=True)).max(axis=(1, 2, 3))
        return np.where(chroma > 1e-3, self.balloon, 0)


def test_imagenet_labels_add_the_semantic_test(models, tmp_path, monkeypatch):
    balloon = "plasma-workspace-data-9cbb93176d.jpg"  # ImageNet's n02782093, balloon
    other = "krank-19ab4f4cc5.jpg"
    folder = _photo_folder(tmp_path, [balloon, other])
    labels = tmp_path / "labels.csv"
    labels.write_text(f"file,wnid\n{balloon},n02782093\n")
    judge = _ColourJudge(semantic.imagenet_wnids().index("n02782093"))
    monkeypatch.setattr(semantic, "ImageNetJudge", lambda: judge)
    out = tmp_path / "out"
    assert evaluate.main(["--models", models["unet"], "--data", str(folder), "--split", "all",
                          "--imagenet-labels", str(labels), "--out", str(out),
                          "--sheet-images", "0", "--image-size", "32", "--quiet"]) == 0
    assert judge.batches > 0
    rows = {(r["model"], r["image"]): r for r in _rows(out)}
    assert rows[(scoring.GRAY, other)]["imagenet_top1"] == "nan"  # no label, no verdict
    assert rows[(scoring.GRAY, balloon)]["truth_imagenet_top1"] == "1.0"
    assert rows[(scoring.GRAY, balloon)]["imagenet_top1"] == "0.0"
    mine = rows[("unet_tiny", balloon)]
    assert float(mine["colorfulness"]) > 0 and mine["imagenet_top1"] == "1.0"
    summary = (out / "summary.md").read_text()
    subset = _table(summary, "## ImageNet photos on their own")
    assert subset[scoring.GRAY]["images"] == "1"
    assert subset[scoring.GRAY]["ImageNet top-1"] == "0.000"
    assert subset["unet_tiny"]["ImageNet top-1"] == "1.000"
    assert subset[scoring.TRUTH]["ImageNet top-1"] == "1.000"


def test_imagenet_labels_without_a_class_give_one_line(models, tmp_path, fails):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,wnid\na.jpg,not-a-wnid\n")
    fails(["--models", models["unet"], "--imagenet-labels", str(labels),
           "--out", str(tmp_path / "o"), *TINY], "names an ImageNet class")


def test_a_plain_folder_is_scored_whole_by_default(models, tmp_path, capsys):
    """It once scored a hash-chosen tenth (2 of 6), and --turing 4 then failed."""
    names = sorted(p.name for p in data.SAMPLE_DIR.glob("*.jpg"))[:6]
    folder = _photo_folder(tmp_path, names)
    out = tmp_path / "out"
    assert evaluate.main(["--models", models["unet"], "--data", str(folder), "--turing", "4",
                          "--out", str(out), "--sheet-images", "0", "--image-size", "32",
                          "--quiet"]) == 0
    assert len({r["image"] for r in _rows(out)}) == 6
    assert "on 6 photos" in capsys.readouterr().out


def test_two_models_of_one_name_get_two_columns():
    """A shipped `unet` beside an exported unet.onnx once shared one column, one lost."""
    first = scoring.model_label("/x/unet.onnx", pathlib.Path("/x/unet.onnx"))
    second = scoring.model_label("unet", pathlib.Path("/m/unet/unet.keras"), taken={first})
    assert first == "unet" and second not in (first, scoring.GRAY, scoring.TRUTH)
    third = scoring.model_label("runs/a", pathlib.Path("runs/a/model.keras"), taken={"a"})
    assert third == "runs/a"
