"""ONNX and LiteRT exports: they run in their own runtimes and match the Keras model."""

import importlib
import json
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from colorkeras import export, inference, portable, runtimes

SIZE = 32


@pytest.fixture(scope="module")
def network(tmp_path_factory, tiny_network):
    """The tiny Lab U-Net, computing in mixed bfloat16 as the shipped ones were trained."""
    folder = tmp_path_factory.mktemp("portable")
    net = keras.models.load_model(tiny_network).rebuilt(dtype="mixed_bfloat16")
    # Weights that give colour: a fresh head predicts almost none.
    net.set_weights([w + np.random.default_rng(1).normal(0, 0.1, w.shape).astype(w.dtype)
                     for w in net.get_weights()])
    path = folder / "tiny.keras"
    net.save(path)
    return path


@pytest.fixture(scope="module")
def exports(network, tmp_path_factory):
    """{(format, quantize): written file} for every variant."""
    folder = tmp_path_factory.mktemp("exports")
    variants = [("onnx", "none"), ("onnx", "int8"), ("litert", "none"),
                ("litert", "float16"), ("litert", "int8")]
    return {(fmt, q): portable.export(network, folder / f"{fmt}-{q}", fmt, SIZE, q)
            for fmt, q in variants}


def gray(shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def test_float32_copy_computes_in_float32_with_the_same_weights(network):
    mixed = inference.load(network)
    assert mixed.network.layers[1].compute_dtype == "bfloat16"
    copy = portable.float32_copy(mixed)
    assert {layer.compute_dtype for layer in copy.network.layers} == {"float32"}
    x = gray((1, SIZE, SIZE, 1))
    assert np.abs(copy.rgb(x).numpy() - mixed.rgb(x).numpy()).max() < 0.05  # bfloat16's rounding


def test_onnx_keeps_dynamic_shapes_and_matches_keras(network, exports):
    path = exports[("onnx", "none")]
    assert path.name == "tiny.onnx"
    info = json.loads(path.with_name("model.json").read_text())
    assert info["dynamic_shapes"] and info["inputs"][0]["shape"] == [None, None, None, 1]
    assert info["color_space"] == "lab" and info["render_size"] == SIZE
    colorizer = portable.float32_copy(inference.load(network))
    onnx = runtimes.load(path)
    for shape in [(1, 37, 50, 1), (2, SIZE, 20, 1)]:  # any batch, height and width
        x = gray(shape)
        got, want = onnx.predict(x), colorizer.rgb(x).numpy()
        assert got.shape == (*shape[:3], 3)
        assert np.abs(got - want).max() <= 1e-3


def test_litert_float32_matches_keras_at_any_size(network, exports):
    """Height and width are dynamic: a photo runs at its own aspect, as in Keras."""
    path = exports[("litert", "none")]
    assert path.name == f"tiny_{SIZE}.tflite"
    info = json.loads(path.with_name("model.json").read_text())
    assert info["inputs"][0]["shape"] == [1, None, None, 1] and info["dynamic_shapes"]
    litert = runtimes.load(path)
    assert litert.fixed_size is None
    keras_colorizer = portable.float32_copy(inference.load(network))
    for shape in [(2, SIZE, SIZE, 1), (1, SIZE, 45, 1), (1, 50, SIZE, 1)]:
        x = gray(shape)
        assert np.abs(litert.predict(x) - keras_colorizer.rgb(x).numpy()).max() <= 1e-3


@pytest.mark.parametrize("variant", [("onnx", "int8"), ("litert", "float16"),
                                     ("litert", "int8")])
def test_quantized_variants_store_low_precision_and_give_rgb(network, exports, variant):
    path = exports[variant]
    if variant[0] == "onnx":
        import onnx

        ops = {node.op_type for node in onnx.load(str(path)).graph.node}
        assert "DynamicQuantizeLinear" in ops and "ConvInteger" in ops
    else:
        from ai_edge_litert.interpreter import Interpreter

        dtypes = {d["dtype"] for d in Interpreter(str(path)).get_tensor_details()}
        assert (np.float16 if variant[1] == "float16" else np.int8) in dtypes
    x = gray((1, SIZE, SIZE, 1))
    out = runtimes.load(path).predict(x)
    assert out.shape == (1, SIZE, SIZE, 3) and np.isfinite(out).all()
    want = portable.float32_copy(inference.load(network)).rgb(x).numpy()
    assert np.abs(out - want).mean() < 0.1  # close, though not exact


def test_evaluation_scores_an_export_like_a_keras_colorizer(network, exports):
    from colorkeras import scoring

    photos = np.round(gray((2, SIZE, SIZE, 3), seed=3) * 255).astype(np.uint8)
    want = scoring.colorize_photos(portable.float32_copy(inference.load(network)), photos)
    got = scoring.colorize_photos(runtimes.load(exports[("onnx", "none")]), photos)
    # The same 8-bit images, but for a level where the two runtimes straddle a rounding.
    difference = np.abs(np.asarray(got) - np.asarray(want))
    assert difference.max() <= 1.01 / 255 and difference.mean() < 0.01 / 255


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_colorize_runs_exports_through_the_same_recipe(network, exports, fmt, tmp_path,
                                                       run_command):
    photo = np.round(gray((45, 61, 3), seed=2) * 255).astype(np.uint8)
    want = inference.colorize(photo, portable.float32_copy(inference.load(network)),
                              render_size=SIZE).astype(int)
    got = inference.colorize(photo, str(exports[(fmt, "none")]), render_size=SIZE)
    assert got.shape == photo.shape and got.dtype == np.uint8
    if fmt == "onnx":  # same network at the same size: the same pixels
        assert np.abs(got.astype(int) - want).max() <= 1
    # The folder command takes the file as --model too.
    Image.fromarray(photo).save(tmp_path / "photo.png")
    command = importlib.import_module("colorkeras.colorize_command")
    result = run_command(command.main, tmp_path / "photo.png", "--model", exports[(fmt, "none")],
                         "--out", tmp_path / "out", "--render-size", SIZE)
    assert result.code == 0, result.err
    written = np.asarray(Image.open(tmp_path / "out" / "photo.png"))
    assert written.shape == photo.shape


def test_export_command_refuses_bad_requests_and_keeps_files(network, tmp_path, run_command):
    def run_export(argv):
        result = run_command(export.main, *argv)
        return result.code, result

    out = tmp_path / "d"
    code, output = run_export([network, "--format", "onnx", "--quantize", "float16",
                               "--out", out])
    assert code == 2 and "quantize" in output.err and not out.exists()
    code, output = run_export([network, "--format", "litert"])
    assert code == 2 and "--out is needed" in output.err
    code, output = run_export([network, "--quantize", "int8", "--out", out])
    assert code == 2 and "--quantize is for" in output.err
    out.mkdir()
    (out / "model.json").write_text("mine")
    code, output = run_export([network, "--format", "litert", "--size", 16, "--out", out])
    assert code == 2 and "exists" in output.err
    assert (out / "model.json").read_text() == "mine"
    code, output = run_export([network, "--format", "litert", "--size", 16, "--out", out,
                               "--overwrite"])
    assert code == 0 and (out / "tiny_16.tflite").is_file()


def test_missing_runtime_names_the_extra(exports, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"colorkeras\[onnx\]"):
        runtimes.load(exports[("onnx", "none")])
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(ImportError, match=r"colorkeras\[litert\]"):
        runtimes.load(exports[("litert", "none")])


def test_load_refuses_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        runtimes.load(tmp_path / "absent.onnx")
    with pytest.raises(ValueError, match="onnx or .tflite"):
        runtimes.load(tmp_path / "model.bin")
