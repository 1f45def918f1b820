"""Hostile inputs and edge cases: nothing crashes, nothing is silently wrong or overwritten.

Each test here is a fault a hostile user found (issue 28), kept so that it
stays fixed. The images and networks are tiny; the thin images go through
the real command and the real exported SavedModel in a child process whose
address space is capped, so a network run at the unbounded size fails there
quickly instead of taking the machine's memory.
"""

import importlib
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

import colorkeras
from colorkeras import cli, inference, runtimes
from colorkeras.errors import InputError

colorize_command = importlib.import_module("colorkeras.colorize_command")
export_command = importlib.import_module("colorkeras.export")

THIN_SHAPES = [(2, 2000), (1, 4000), (8, 800)]  # (height, width) of the images
MEMORY_CAP = 3 * 1024**3  # bytes of address space for the child processes below
REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def network_file(tiny_networks):
    """The shared tiny untrained YUV U-Net colorizer, saved as ``.keras``."""
    return tiny_networks("unet", "yuv")


@pytest.fixture(scope="module")
def thin_pngs(tmp_path_factory):
    """The issue's thin PNGs: 2x2000, 1x4000 and 8x800 pixels of gray."""
    folder = tmp_path_factory.mktemp("thin")
    paths = []
    for height, width in THIN_SHAPES:
        paths.append(folder / f"thin_{height}x{width}.png")
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None].repeat(height, 0)
        Image.fromarray(ramp.astype(np.uint8)).save(paths[-1])
    return paths


class ShapeSpy:
    """Network shapes a colorizer was run at; refuses to run one over ``limit`` pixels."""

    def __init__(self, limit):
        self.limit, self.shapes = limit, []

    def __call__(self, gray):
        self.shapes.append(gray.shape[1:3])
        if gray.shape[1] * gray.shape[2] > self.limit:
            raise MemoryError(f"the network was asked to run at {gray.shape[1:3]}")
        return np.repeat(gray, 3, axis=-1)


def spy_colorizer(limit):
    spy = ShapeSpy(limit)
    return runtimes.PortableColorizer("spy.onnx", spy), spy


def run_capped(*args, env=None):
    """Run ``python ARGS`` in a child process with its address space capped."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    environment = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3",
                   **(env or {})}
    return subprocess.run([sys.executable, *map(str, args)],
                          capture_output=True, text=True, timeout=900, preexec_fn=cap,
                          env=environment)


# --- 1. a bound on the network's work ---------------------------------------------


@pytest.mark.parametrize("height, width", THIN_SHAPES + [(w, h) for h, w in THIN_SHAPES])
def test_render_shape_of_a_thin_photo_is_bounded(height, width):
    import tensorflow as tf

    shape = inference.render_shape(tf.constant([height, width]), 256).numpy()
    assert shape[0] * shape[1] <= 4 * 256 * 256
    # Not so thin that padding to the network's size multiple undoes the bound.
    assert min(shape) >= 16
    assert (shape[0] >= shape[1]) == (height >= width)


def test_render_shape_of_an_ordinary_photo_is_as_asked():
    import tensorflow as tf

    assert inference.render_shape(tf.constant([300, 400]), 256).numpy().tolist() == [256, 341]
    assert inference.render_shape(tf.constant([3, 5]), None).numpy().tolist() == [3, 5]


def test_api_runs_a_thin_photo_small_and_says_so():
    """A 1x4000 array at render size 64 once ran the network at 64x256000."""
    colorizer, spy = spy_colorizer(limit=4 * 64 * 64)
    with pytest.warns(inference.RenderShrunk, match="4000x1 pixels"):
        rgb = colorkeras.colorize(np.zeros((1, 4000), np.uint8), colorizer, render_size=64)
    assert rgb.shape == (1, 4000, 3)
    assert spy.shapes and all(h * w <= 4 * 64 * 64 for h, w in spy.shapes)


def test_command_colorizes_thin_photos_with_a_one_line_note(thin_pngs, tmp_path, monkeypatch,
                                                            run_command):
    colorizer, spy = spy_colorizer(limit=4 * 64 * 64)
    monkeypatch.setattr(inference, "load", lambda model: colorizer)
    code, _, err = run_command(colorize_command.main, *[
        *map(str, thin_pngs), "--out", str(tmp_path / "out"), "--render-size", "64"])
    assert code == 0, err
    for path, (height, width) in zip(thin_pngs, THIN_SHAPES):
        assert np.asarray(Image.open(tmp_path / "out" / path.name)).shape == (height, width, 3)
        assert sum(path.name in line for line in err.splitlines()) == 1
    assert all(h * w <= 4 * 64 * 64 for h, w in spy.shapes)


# One capped child serves both checks below (one TensorFlow start, not two): first
# the real command, as ``python -m colorkeras colorize`` runs it, then the exported
# SavedModel's two signatures. It prints ``RESULT <json>`` lines.
CAPPED_CHILD = textwrap.dedent("""
    import json, runpy, sys
    model, out, served_dir, *paths = sys.argv[1:]

    def result(**values):
        print("RESULT " + json.dumps(values), flush=True)

    sys.argv = ["colorkeras", "colorize", *paths, "--model", model, "--out", out]
    try:
        runpy.run_module("colorkeras", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    result(command=code)

    import numpy as np
    import tensorflow as tf
    from PIL import Image
    served = tf.saved_model.load(served_dir)
    for path in paths:
        pixels = np.asarray(Image.open(path))[None, ..., None]
        out = served.signatures["serving_default"](images=tf.constant(pixels))
        data = tf.constant([open(path, "rb").read()])
        png = served.signatures["colorize_encoded"](image_bytes=data)["colorized_bytes"]
        result(default=list(out["colorized"].shape), encoded=list(tf.io.decode_png(png[0]).shape))
""")


@pytest.fixture(scope="module")
def capped_child(network_file, thin_pngs, tmp_path_factory):
    """The capped child's run: its ``RESULT`` values in order, its output folder, its stderr."""
    from colorkeras import export

    folder = tmp_path_factory.mktemp("capped")
    version = export.export(str(network_file), folder / "served", version=1)
    result = run_capped("-c", CAPPED_CHILD, network_file, folder / "out", version, *thin_pngs)
    results = [json.loads(line[len("RESULT "):]) for line in result.stdout.splitlines()
               if line.startswith("RESULT ")]
    return results, folder / "out", result


def test_thin_pngs_through_the_command_in_a_capped_process(capped_child):
    """The real command and a real network, at the default render size, in 3 GB."""
    results, out, child = capped_child
    assert results and results[0] == {"command": 0}, child.stderr[-2000:]
    for height, width in THIN_SHAPES:
        written = out / f"thin_{height}x{width}.png"  # as `thin_pngs` names its inputs
        assert np.asarray(Image.open(written)).shape == (height, width, 3)


def test_thin_pngs_through_the_saved_model_in_a_capped_process(capped_child):
    """Both signatures share the bound: one request cannot take a server down."""
    results, _, child = capped_child
    assert child.returncode == 0, child.stderr[-2000:]
    assert results[1:] == [{"default": [1, height, width, 3], "encoded": [height, width, 3]}
                           for height, width in THIN_SHAPES]


# --- 5. value ranges at the API --------------------------------------------------------


def test_float_array_of_0_to_255_is_taken_as_0_to_255():
    """np.asarray(img, np.float32) is a common slip; it once came back pure white."""
    colorizer, _ = spy_colorizer(limit=10**6)
    pixels = np.random.default_rng(0).integers(0, 256, (9, 11)).astype(np.uint8)
    as_float = colorkeras.colorize(pixels.astype(np.float32), colorizer, render_size=None)
    np.testing.assert_array_equal(as_float, colorkeras.colorize(pixels, colorizer,
                                                                render_size=None))
    assert as_float.min() < 200


@pytest.mark.parametrize("values, match", [
    ([0.0, 0.5, np.nan], "NaN"),
    ([0.0, np.inf, 0.5], "NaN or inf"),
    ([-0.5, 0.2, 0.9], r"\[0, 1\]"),
    ([0.0, 127.5, 255.0], r"\[0, 1\]"),
])
def test_float_arrays_outside_the_unit_range_are_refused(values, match):
    colorizer, _ = spy_colorizer(limit=10**6)
    image = np.resize(np.array(values, np.float32), (6, 6))
    with pytest.raises(InputError, match=match):
        colorkeras.colorize(image, colorizer)


# --- 3. bad model files --------------------------------------------------------------


def _lambda_model(path):
    inputs = keras.Input((None, None, 1))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(path)


@pytest.fixture
def bad_models(tmp_path):
    """Files that look like models and are not: a text file, a Lambda layer, fakes."""
    text = tmp_path / "notes.keras"
    text.write_text("not a model\n")
    lambda_file = tmp_path / "lambda.keras"
    _lambda_model(lambda_file)
    onnx = tmp_path / "fake.onnx"
    onnx.write_bytes(b"\x08\x07not onnx at all")
    tflite = tmp_path / "fake.tflite"
    tflite.write_bytes(b"TFL3 but not really a flatbuffer")
    return [text, lambda_file, onnx, tflite]


def _one_line_naming(err, path):
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error: ") and path.name in lines[0]


def test_bad_model_files_give_one_line_from_colorize(bad_models, tmp_path, run_command):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(photo)
    for model in bad_models:
        code, _, err = run_command(colorize_command.main, *[
            str(photo), "--model", str(model), "--out", str(tmp_path / "out")])
        assert code == 2 and _one_line_naming(err, model), (model.name, err)
        assert "File not found" not in err


def test_bad_model_files_give_one_line_from_export(bad_models, tmp_path, run_command):
    for model, fmt in zip(bad_models[:2], ("saved_model", "onnx")):
        code, _, err = run_command(export_command.main, *[
            str(model), "--format", fmt, "--out", str(tmp_path / fmt)])
        assert code == 2 and _one_line_naming(err, model), (model.name, err)


def test_bad_model_files_raise_input_error_from_the_api(bad_models):
    for model in bad_models:
        with pytest.raises(InputError, match=model.name):
            inference.load(str(model))


# --- tracebacks only when asked --------------------------------------------------------


def test_an_unexpected_error_is_one_line_unless_debugging(monkeypatch, run_command):
    def main(argv):
        raise RuntimeError("deep inside TensorFlow\nsecond line")

    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    code, _, err = run_command(main, *[])
    assert code == 1
    assert err.splitlines() == [
        "error: RuntimeError: deep inside TensorFlow (--debug or COLORKERAS_DEBUG=1 "
        "shows the traceback)"]
    with pytest.raises(RuntimeError):
        cli.run(main, ["--debug"])
    monkeypatch.setenv(cli.DEBUG_VARIABLE, "1")
    with pytest.raises(RuntimeError):
        cli.run(main, [])


# --- 2 and 11. videos in a batch -----------------------------------------------------------


def test_a_bad_video_does_not_sink_the_batch(network_file, tmp_path, run_command):
    pytest.importorskip("imageio_ffmpeg", reason="video needs the [video] extra")
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(os.urandom(3000))
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 10), np.uint8)).save(photo)
    code, _, err = run_command(colorize_command.main, *[
        str(fake), str(photo), "--model", str(network_file), "--out", str(tmp_path / "out")])
    assert code == 1
    assert (tmp_path / "out" / "photo.png").is_file()
    assert [line for line in err.splitlines() if "fake.mp4" in line] == [
        line for line in err.splitlines() if line.strip()]
    assert len(err.strip().splitlines()) == 1


def test_videos_inside_a_folder_are_colorized(network_file, tmp_path, run_command):
    pytest.importorskip("imageio_ffmpeg", reason="video needs the [video] extra")
    from benchmarks.clips import write_clip
    from colorkeras.data import sample_photos

    folder = tmp_path / "films"
    folder.mkdir()
    write_clip(folder / "clip.mp4", sample_photos(1), size=(32, 24), frames_per_photo=2,
               audio=False)
    code, out, err = run_command(colorize_command.main, *[
        str(folder), "--model", str(network_file), "--out", str(tmp_path / "out")])
    assert code == 0, err
    assert (tmp_path / "out" / "clip.mp4").is_file()


# --- 7 and 13. training run folders ----------------------------------------------------------

TINY_TRAIN = ["--data", "sample", "--image-size", "32", "--crop-size", "16", "--batch-size", "2",
              "--epochs", "1", "--steps-per-epoch", "1", "--hparam", "depth=1",
              "--hparam", "base_filters=4", "--quiet"]


def test_train_refuses_a_non_empty_folder_it_did_not_make(tmp_path, run_command):
    from colorkeras import train, training_config

    out = tmp_path / "mine"
    out.mkdir()
    (out / "history.csv").write_text("epoch,my_own_column\n0,42\n")
    code, _, err = run_command(train.main, *[*TINY_TRAIN, "--out", str(out)])
    assert code == 2 and str(out) in err and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1
    assert (out / "history.csv").read_text() == "epoch,my_own_column\n0,42\n"
    assert sorted(p.name for p in out.iterdir()) == ["history.csv"]
    training_config.check_out_folder(str(out), overwrite=True)  # asked for: no refusal
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        training_config.check_out_folder(str(tmp_path / "a-file"))


def test_rerunning_a_finished_train_says_it_is_done(tmp_path, run_command):
    """A finished run is recognised before anything is built, and says how to go on."""
    import dataclasses
    import json

    from colorkeras import train

    out = tmp_path / "run"
    out.mkdir()
    argv = [*TINY_TRAIN, "--out", str(out)]
    config = train.config_from_args(train.build_parser().parse_args(argv))
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(config)))
    (out / "history.csv").write_text("epoch,loss\n0,0.5\n")
    code, stdout, err = run_command(train.main, *argv)
    assert code == 0, err
    assert "already at 1/1 epochs; raise --epochs to go on" in stdout
    assert (out / "history.csv").read_text() == "epoch,loss\n0,0.5\n"


# --- 9. a small folder's validation split -----------------------------------------------------


def test_a_small_folder_still_has_a_validation_photo(tmp_path, capsys):
    from colorkeras import data

    folder = tmp_path / "photos"
    folder.mkdir()
    names = (f"photo{i}.png" for i in range(1000))
    names = [n for n in names if not data._in_val_split(n, 0.1)][:12]  # none hashed to val
    for name in names:
        Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(folder / name)
    val = data.folder_split_files(str(folder), "val")
    train = data.folder_split_files(str(folder), "train")
    assert len(val) == 1 and len(train) == 11
    assert not set(map(str, val)) & set(map(str, train))
    assert "picked none for validation" in capsys.readouterr().out


# --- 8, 10 and 12. the grid search ----------------------------------------------------------


def test_the_main_jobs_default_output_is_untracked():
    from colorkeras import tune

    out = tune.default_out("quick", ["unet"])
    assert not pathlib.Path(out).is_relative_to("tuning/results")
    if (REPO / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "-q", out], cwd=REPO)
        assert ignored.returncode == 0, f"{out} is not ignored by git"


def test_summarize_needs_no_repeated_settings(tmp_path, run_command):
    from colorkeras import tune, tuning

    out = tmp_path / "search"
    args = tune.build_parser().parse_args(["--steps-per-epoch", "3", "--epochs", "2",
                                           "--out", str(out)])
    *_, record = tune.planned_search(args)
    tuning.write_search(str(out), record)
    code, stdout, err = run_command(tune.main, *["--summarize", "--out", str(out)])
    assert code == 0, err
    assert (out / "trials.csv").is_file() and (out / "summary.md").is_file()


def test_the_plot_numbers_trials_as_the_csv_does(tmp_path, monkeypatch):
    import matplotlib.axes

    from colorkeras import tuning_report

    plotted = []
    original = matplotlib.axes.Axes.plot

    def plot(self, x, *args, **kwargs):
        plotted.append(list(x))
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", plot)
    rows = [tuning_report.TrialRow("unet", trial, "COMPLETED", score, 1, 1.0, {})
            for trial, score in (("0", 2.0), ("1", 1.0), ("2", 1.5))]
    tuning_report.write_plot(tmp_path / "plot.png", rows, {"name": "val_mae",
                                                           "direction": "min"})
    assert plotted and all(x == [0, 1, 2] for x in plotted)


# --- 4. the web app ----------------------------------------------------------------------------


def test_the_app_refuses_a_busy_port_in_one_line(run_command):
    pytest.importorskip("gradio", reason="the app needs the [app] extra")
    import socket

    from colorkeras import app

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, out, err = run_command(app.main, *["--port", str(port)])
    assert code == 2 and "Serving on" not in out
    assert len(err.strip().splitlines()) == 1 and str(port) in err


def test_a_bad_upload_is_one_sentence_with_its_own_name(tmp_path, capsys):
    gr = pytest.importorskip("gradio", reason="the app needs the [app] extra")
    from colorkeras import app

    upload = tmp_path / "gradio" / "0123abcd" / "holiday.jpg"  # as Gradio keeps an upload
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"\xff\xd8 not really a JPEG")
    run = app.make_handler(app.Colorizers(), tmp_path / "out")
    with pytest.raises(gr.Error) as error:
        run(str(upload), "pix2pix", 256, progress=None)
    assert "holiday.jpg" in error.value.message and str(upload.parent) not in error.value.message
    assert error.value.print_exception is False


# --- 6. LiteRT on photos that are not square ---------------------------------------------------


def test_litert_float32_colours_a_non_square_photo_as_keras_does(network_file, tmp_path):
    """A 4:3 photo was squeezed into the file's square: up to 42/255 off Keras."""
    pytest.importorskip("ai_edge_litert", reason="LiteRT needs the [litert] extra")
    from colorkeras import portable

    path = portable.export(str(network_file), tmp_path, "litert", 32)
    photo = np.random.default_rng(3).integers(0, 256, (30, 40, 3)).astype(np.uint8)
    keras_colorizer = portable.float32_copy(inference.load(network_file))
    want = colorkeras.colorize(photo, keras_colorizer, render_size=32).astype(int)
    got = colorkeras.colorize(photo, str(path), render_size=32).astype(int)
    assert np.abs(got - want).max() <= 1


def test_a_fixed_size_litert_runs_windows_at_the_photos_aspect():
    """Files from before: the window is the file's side, the photo keeps its aspect."""
    seen = []

    def square_only(gray):
        assert gray.shape[1:3] == (8, 8), gray.shape
        seen.append(gray.shape)
        return np.repeat(gray, 3, axis=-1)

    colorizer = runtimes.PortableColorizer("old_8.tflite", square_only, fixed_size=(8, 8))
    ramp = np.tile(np.linspace(0, 1, 20, dtype=np.float32), (8, 1))[None, ..., None]
    rgb = np.asarray(colorizer.rgb(ramp))
    assert rgb.shape == (1, 8, 20, 3) and len(seen) >= 3
    np.testing.assert_allclose(rgb[..., 0], ramp[..., 0], atol=1e-5)  # windows blend back whole


# --- 14. small things ---------------------------------------------------------------------------


def test_out_naming_a_file_is_refused_in_words(tmp_path, monkeypatch, run_command):
    colorizer, _ = spy_colorizer(limit=10**6)
    monkeypatch.setattr(inference, "load", lambda model: colorizer)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(photo)
    (tmp_path / "taken").write_text("a file")
    code, _, err = run_command(colorize_command.main, *[str(photo), "--out",
                                                       str(tmp_path / "taken")])
    assert code == 2 and "is a file, not a folder" in err and "Errno" not in err
