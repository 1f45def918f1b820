"""Inference: load, the wrapper layers, colorize, image files and the command."""

import importlib
import os
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import colorkeras
from colorkeras import cli, color, colorize_command, images, inference
from colorkeras.layers import CropLike, PadToMultiple
from colorkeras.models import build_model

# `colorkeras.colorize` is the function; `colorkeras colorize` runs `colorize_command`.

# One tiny untrained network per colour space, with different size multiples.
TINY = {"rgb": "unet", "lab": "resnet", "yuv": "cae"}


@pytest.fixture(scope="module")
def networks(tiny_networks):
    """{space: path of a saved bare network} (conftest's, shared by the session)."""
    return {space: tiny_networks(name, space) for space, name in TINY.items()}


@pytest.fixture(scope="module")
def colorizer(networks):
    return inference.load(networks["rgb"])


@pytest.fixture
def home(tmp_path, monkeypatch, networks):
    """A COLORKERAS_HOME holding one model named "tiny"."""
    folder = tmp_path / "home" / "exported_models" / "tiny"
    folder.mkdir(parents=True)
    (folder / "tiny.keras").write_bytes(networks["yuv"].read_bytes())
    monkeypatch.setenv("COLORKERAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def photo(height=24, width=32, seed=0):
    """A smooth colourful uint8 RGB image, like a photo rather than noise."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 2 * np.pi, 3)
    rgb = 0.5 + 0.4 * np.sin(6 * x[..., None] + 4 * y[..., None] + phases)
    return np.round(rgb * 255).astype(np.uint8)


def luma(rgb_uint8):
    return color.luminance(rgb_uint8.astype(np.float32) / 255.0).numpy()[..., 0]


# --- load ----------------------------------------------------------------------


@pytest.mark.parametrize("space", sorted(TINY))
def test_load_predicts_rgb_of_any_size(networks, space):
    model = inference.load(networks[space])
    assert inference.is_colorizer(model)
    for height, width in [(7, 5), (1, 1), (33, 50)]:
        gray = np.random.default_rng(1).random((2, height, width, 1), dtype=np.float32)
        rgb = model.rgb(gray).numpy()
        assert rgb.shape == (2, height, width, 3)
        assert rgb.min() >= 0.0 and rgb.max() <= 1.0


@pytest.mark.parametrize("space", ["lab", "yuv"])
def test_chroma_colorizer_keeps_the_gray_luma(networks, space):
    """Decoding puts the chroma on the input's own luma (decode_output's promise)."""
    gray = np.random.default_rng(2).uniform(0.2, 0.8, (1, 19, 23, 1)).astype(np.float32)
    rgb = inference.load(networks[space]).rgb(gray).numpy()
    # Untrained chroma can leave the RGB cube; only the final clip may move luma.
    unclipped = np.all((rgb > 0) & (rgb < 1), axis=-1)
    assert unclipped.mean() > 0.5
    error = np.abs(color.luminance(rgb).numpy() - gray)[..., 0]
    assert error[unclipped].max() < 2e-3


def test_colorizer_of_a_bare_network_saves_and_loads_in_safe_mode(colorizer, tmp_path):
    path = tmp_path / "colorizer.keras"
    colorizer.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    again = inference.load(path)
    assert inference.is_colorizer(loaded) and inference.is_colorizer(again)
    gray = np.random.default_rng(3).random((1, 13, 21, 1), dtype=np.float32)
    np.testing.assert_allclose(again.rgb(gray), colorizer.rgb(gray), atol=1e-6)


def test_padding_reflects_and_crop_undoes_it():
    x = tf.reshape(tf.range(5 * 6, dtype=tf.float32), (1, 5, 6, 1))
    padded = PadToMultiple(4)(x)
    assert padded.shape == (1, 8, 8, 1)
    # Where tf.pad can reflect, ours agrees with it.
    expected = tf.pad(x, [[0, 0], [1, 2], [1, 1], [0, 0]], mode="REFLECT")
    np.testing.assert_array_equal(padded, expected)
    np.testing.assert_array_equal(CropLike()([padded, x]), x)
    # Pads larger than the image, which tf.pad refuses, still work.
    tiny = tf.ones((1, 1, 3, 1))
    assert PadToMultiple(16)(tiny).shape == (1, 16, 16, 1)


def test_wrapper_colour_maths_stay_float32_under_mixed_precision(networks):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = inference.load(networks["lab"])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    wrapper_layers = [layer for layer in model.layers if layer.name in ("pad", "decode", "crop")]
    assert [layer.dtype_policy.name for layer in wrapper_layers] == ["float32"] * 3
    assert model.rgb(np.zeros((1, 5, 5, 1), np.float32)).dtype == tf.float32


def test_bare_network_of_fixed_size_is_refused():
    net = build_model("unet", input_shape=(32, 32, 1), depth=2, base_filters=4)
    with pytest.raises(ValueError, match="any size"):
        inference.load(net)


def test_names_resolve_in_colorkeras_home(home):
    assert "tiny" in inference.available_models()
    assert inference.resolve("tiny") == home / "exported_models" / "tiny" / "tiny.keras"
    rgb = inference.load("tiny").rgb(np.zeros((1, 9, 11, 1), np.float32))
    assert rgb.shape == (1, 9, 11, 3)


def test_unknown_name_lists_available_models(home):
    with pytest.raises(ValueError, match=r"Unknown model 'nope'. Available models: \[") as info:
        inference.load("nope")
    assert "'tiny'" in str(info.value) and "COLORKERAS_HOME" in str(info.value)


def test_paths_and_run_folders(networks, tmp_path):
    with pytest.raises(FileNotFoundError):
        inference.load(tmp_path / "missing.keras")
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(networks["rgb"].read_bytes())
    assert inference.resolve(run) == run / "model.keras"
    assert inference.is_colorizer(inference.load(str(run)))


def test_pyproject_packages_list_every_subpackage():
    """The package list is explicit (to map exported_models in): keep it whole."""
    tomllib = pytest.importorskip("tomllib")
    root = pathlib.Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {
        ".".join(p.parent.relative_to(root).parts)
        for p in (root / "colorkeras").rglob("__init__.py")
    }
    assert found <= set(config["packages"])
    assert config["package-dir"]["colorkeras.exported_models"] == "exported_models"


# --- colorize --------------------------------------------------------------------


def test_colorize_accepts_paths_pil_and_arrays(colorizer, tmp_path):
    rgb = photo()
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    from_array = inference.colorize(rgb, colorizer)
    assert from_array.shape == (24, 32, 3) and from_array.dtype == np.uint8
    np.testing.assert_array_equal(inference.colorize(str(path), colorizer), from_array)
    np.testing.assert_array_equal(inference.colorize(path, colorizer), from_array)
    np.testing.assert_array_equal(inference.colorize(Image.open(path), colorizer), from_array)
    as_float = inference.colorize(rgb.astype(np.float32) / 255.0, colorizer)
    np.testing.assert_array_equal(as_float, from_array)


def test_public_api_survives_importing_the_command(colorizer):
    """Importing the command module leaves ``colorkeras.colorize`` to the function."""
    import inspect

    assert inspect.ismodule(colorize_command) and colorize_command.main is not inference.colorize
    # One name, one thing: no module hides behind the function's name (importing one
    # would bind it over the function).
    package = pathlib.Path(colorkeras.__file__).parent
    assert not (package / "colorize.py").exists() and not (package / "colorize").exists()
    assert colorkeras.colorize is inference.colorize
    assert list(inspect.signature(colorkeras.colorize).parameters)[:2] == ["image", "model"]
    assert colorkeras.colorize(photo(), colorizer).shape == (24, 32, 3)
    assert colorkeras.load is inference.load


def test_colorize_gray_tiny_and_lists(colorizer):
    gray = photo(7, 5)[..., 0]
    inputs = [gray, gray[..., None], photo(5, 7), tf.constant(photo(3, 2))]
    outputs = inference.colorize(inputs, colorizer)
    assert isinstance(outputs, list)
    assert [o.shape for o in outputs] == [(7, 5, 3), (7, 5, 3), (5, 7, 3), (3, 2, 3)]
    # Gray in two layouts is the same photo.
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_keep_luminance_keeps_the_input_luma(colorizer):
    rgb = photo(40, 60, seed=4)
    out = inference.colorize(rgb, colorizer, render_size=16)
    # Rounding the three channels to 8 bits moves the luma by at most 0.5/255.
    assert np.abs(luma(out) - luma(rgb)).max() <= 0.6 / 255


def test_keep_luminance_false_is_the_networks_rgb_resized(colorizer):
    rgb = photo(40, 60, seed=5)
    out = inference.colorize(rgb, colorizer, render_size=20, keep_luminance=False)
    gray = color.luminance(rgb.astype(np.float32)[None] / 255.0)
    small = tf.image.resize(gray, (20, 30), antialias=True)
    expected = tf.image.resize(colorizer.rgb(small), (40, 60), antialias=True)[0].numpy()
    assert np.abs(out / 255.0 - expected).max() <= 1.01 / 255
    # It is the network's own brightness, not the photo's.
    assert np.abs(luma(out) - luma(rgb)).max() > 5 / 255


def test_render_size_none_runs_at_full_size(colorizer):
    rgb = photo(20, 28)
    out = inference.colorize(rgb, colorizer, render_size=None, keep_luminance=False)
    expected = colorizer.rgb(color.luminance(rgb.astype(np.float32)[None] / 255.0))[0]
    assert np.abs(out / 255.0 - expected.numpy()).max() <= 0.51 / 255


def test_transparency_is_flattened_onto_white(colorizer):
    rgba = np.zeros((8, 8, 4), np.uint8)  # fully transparent black
    out = inference.colorize(rgba, colorizer)
    assert np.abs(luma(out) - 1.0).max() <= 0.6 / 255


@pytest.mark.parametrize("render_size", [0, -3, 2.5, True, "256"])
def test_bad_render_size_is_a_value_error(colorizer, render_size):
    with pytest.raises(ValueError, match="render_size"):
        inference.colorize(photo(), colorizer, render_size=render_size)


def test_bad_inputs(colorizer, tmp_path):
    with pytest.raises(FileNotFoundError):
        inference.colorize(tmp_path / "missing.png", colorizer)
    with pytest.raises(ValueError, match="shape"):
        inference.colorize(np.zeros((4, 4, 5), np.uint8), colorizer)
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        inference.colorize(np.full((4, 4), 300), colorizer)


def test_repeated_calls_trace_once_and_load_once(networks):
    colorizer = inference.load(networks["lab"])
    for size in [(9, 9), (30, 17), (5, 40)]:
        inference.colorize(photo(*size), colorizer, render_size=24)
    run = colorizer.make_colorize_function(24, True)
    assert run.render.experimental_get_tracing_count() == 1
    assert run.finish.experimental_get_tracing_count() == 1
    before = inference._load_file.cache_info().hits
    inference.colorize(photo(), str(networks["lab"]))
    inference.colorize(photo(), str(networks["lab"]))
    assert inference._load_file.cache_info().hits > before


# --- image files ------------------------------------------------------------------


def save_variants(folder):
    """One file per awkward kind of input; returns {name: (path, (h, w))}."""
    rgb = photo(16, 24)
    files = {}

    def add(name, image, **options):
        path = folder / name
        image.save(path, **options)
        files[name] = path

    add("gray16.png", Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)))
    add("rgba.png", Image.fromarray(np.dstack([rgb, np.full((16, 24), 128, np.uint8)])))
    add("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"))
    add("palette.png", Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    add("rotated.jpg", Image.fromarray(rgb), exif=exif.tobytes())
    return files, rgb


def test_read_image_modes_and_orientation(tmp_path):
    files, rgb = save_variants(tmp_path)
    gray16 = images.read_image(files["gray16.png"])
    assert gray16.shape == (16, 24, 1)
    np.testing.assert_array_equal(gray16[..., 0], rgb[..., 0])  # high byte of v * 257
    assert images.read_image(files["rgba.png"]).shape == (16, 24, 4)
    assert images.read_image(files["cmyk.jpg"]).shape == (16, 24, 3)
    assert images.read_image(files["palette.png"]).shape == (16, 24, 3)
    assert images.read_image(files["rotated.jpg"]).shape == (24, 16, 3)  # upright


def test_read_image_refuses_too_many_pixels(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(photo(20, 30)).save(path)
    with pytest.raises(images.ImageTooLarge, match="600 pixels.*limit of 500"):
        images.read_image(path, max_pixels=500)
    assert images.read_image(path, max_pixels=600).shape == (20, 30, 3)


def test_our_pixel_limit_overrules_pillows(tmp_path, monkeypatch):
    path = tmp_path / "photo.png"
    Image.fromarray(photo(20, 30)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow alone would refuse
    assert images.read_image(path, max_pixels=1000).shape == (20, 30, 3)
    assert Image.MAX_IMAGE_PIXELS == 100  # and its setting is restored


def test_write_image_is_atomic_and_readable(tmp_path):
    target = tmp_path / "sub" / "out.png"
    images.write_image(photo(), target)
    images.write_image(photo(seed=9), target)  # replaced in place
    np.testing.assert_array_equal(np.asarray(Image.open(target)), photo(seed=9))
    assert [p.name for p in target.parent.iterdir()] == ["out.png"]
    assert os.stat(target).st_mode & 0o044  # not left private like a temp file


# --- the command ----------------------------------------------------------------------


@pytest.fixture
def colorize(run_command):
    """The command, run in-process: ``colorize(*argv) -> (exit status, stdout, stderr)``."""
    def run(*argv):
        result = run_command(colorize_command.main, *argv)
        return result.code, result.out, result.err

    return run


@pytest.fixture
def folder(tmp_path):
    """photos/a.png, photos/b.jpg, photos/sub/c.png."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    Image.fromarray(photo(12, 16)).save(root / "a.png")
    Image.fromarray(photo(10, 14)).save(root / "b.jpg")
    Image.fromarray(photo(9, 9)).save(root / "sub" / "c.png")
    return root


def test_command_keeps_relative_paths(colorize, folder, networks, tmp_path):
    out = tmp_path / "out"
    code, stdout, _ = colorize(folder, "--out", out, "--model", networks["rgb"], "--recursive",
                               "--render-size", 16)
    assert code == 0
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["a.png", "b.png", os.path.join("sub", "c.png")]
    assert np.asarray(Image.open(out / "sub" / "c.png")).shape == (9, 9, 3)
    assert "Colorized 3 image(s)" in stdout
    # Without --recursive only the top level is read.
    code, _, _ = colorize(*[folder, "--out", tmp_path / "flat", "--model", networks["rgb"]])
    assert sorted(p.name for p in (tmp_path / "flat").iterdir()) == ["a.png", "b.png"]


def test_command_ignores_its_own_outputs_inside_an_input_folder(colorize, folder, networks):
    argv = [folder, "--out", folder / "colour", "--model", networks["rgb"], "--recursive"]
    for _ in range(2):  # the second run must not colorize the first run's outputs
        code, stdout, _ = colorize(*argv)
        assert code == 0
    assert "kept 3 existing" in stdout
    assert not (folder / "colour" / "colour").exists()


def test_command_never_overwrites_unless_told(colorize, folder, networks, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.jpg").write_bytes(b"mine")
    argv = [folder / "a.png", "--out", out, "--model", networks["rgb"], "--format", "jpg"]
    code, stdout, _ = colorize(*argv)
    assert code == 0 and "kept 1 existing" in stdout
    assert (out / "a.jpg").read_bytes() == b"mine"
    code, _, _ = colorize(*argv, "--overwrite")
    assert code == 0
    assert Image.open(out / "a.jpg").format == "JPEG"


def test_command_never_writes_over_an_input(colorize, folder, networks):
    before = (folder / "a.png").read_bytes()
    code, _, err = colorize(folder, "--out", folder, "--model", networks["rgb"], "--overwrite")
    assert code == 2 and "would replace the input" in err
    assert (folder / "a.png").read_bytes() == before
    assert not (folder / "b.png").exists()  # nothing at all was written


def test_command_refuses_two_inputs_for_one_output(colorize, folder, networks, tmp_path):
    Image.fromarray(photo()).save(folder / "sub" / "a.jpg")
    code, _, err = colorize(folder / "a.png", folder / "sub" / "a.jpg", "--out", tmp_path / "out",
                            "--model", networks["rgb"])
    assert code == 2 and "would both be written" in err
    assert not (tmp_path / "out").exists()


def test_command_skips_and_counts_bad_files(colorize, folder, networks, tmp_path):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    Image.fromarray(photo(40, 40)).save(folder / "big.png")
    out = tmp_path / "out"
    code, stdout, err = colorize(folder, "--out", out, "--model", networks["rgb"],
                                 "--max-pixels", 1000)
    assert code == 1
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert any("broken.png" in w and "cannot decode" in w for w in warnings)
    assert any("big.png" in w and "1,600 pixels" in w and "--max-pixels" in w for w in warnings)
    assert "skipped 2" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_command_reads_awkward_files(colorize, networks, tmp_path):
    files, _ = save_variants(tmp_path)
    out = tmp_path / "out"
    code, _, err = colorize(*[*files.values(), "--out", out, "--model", networks["lab"]])
    assert code == 0, err
    for name in files:
        written = np.asarray(Image.open(out / pathlib.Path(name).with_suffix(".png")))
        assert written.shape == ((24, 16, 3) if name == "rotated.jpg" else (16, 24, 3))


def test_command_errors_are_one_line(colorize, networks, tmp_path):
    code, _, err = colorize(tmp_path / "nothing", "--out", tmp_path / "o")
    assert code == 2 and err.strip().startswith("error: No such file")
    Image.fromarray(photo()).save(tmp_path / "x.png")
    code, _, err = colorize(tmp_path / "x.png", "--out", tmp_path / "o", "--model", "nope")
    assert code == 2 and "Unknown model 'nope'" in err and len(err.strip().splitlines()) == 1


def test_command_help_lists_the_options():
    text = colorize_command.build_parser().format_help()
    for option in ["--out", "--model", "--render-size", "--recursive", "--overwrite",
                   "--format", "--max-pixels"]:
        assert option in text


def test_colorize_with_a_raw_network_traces_once(networks):
    network = keras.models.load_model(networks["lab"], safe_mode=True)
    photo = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    first = colorkeras.colorize(photo, model=network)
    colorizer = inference.colorizer_for(network)
    run = colorizer.make_colorize_function()
    second = colorkeras.colorize(photo, model=network)
    assert inference.colorizer_for(network) is colorizer
    assert run.render.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(first, second)
    assert len(network.weights) == len(keras.models.load_model(networks["lab"]).weights)
