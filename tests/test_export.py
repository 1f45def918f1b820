"""The SavedModel export: what TF Serving sees, and that it matches colorize."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from colorkeras import export, inference

RENDER_SIZE = 24

# Runs in a fresh interpreter: only TensorFlow, no colorkeras, as a server would.
SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
from PIL import Image

export_dir, files, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
loaded = tf.saved_model.load(export_dir)
default = loaded.signatures["serving_default"]
encoded = loaded.signatures["colorize_encoded"]
results = {}
for i, path in enumerate(files):
    pixels = np.asarray(Image.open(path))
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    results[f"default{i}"] = default(images=tf.constant(pixels[None]))["colorized"][0].numpy()
data = [open(path, "rb").read() for path in files]
pngs = encoded(image_bytes=tf.constant(data))["colorized_bytes"].numpy()
for i, png in enumerate(pngs):
    results[f"encoded{i}"] = tf.io.decode_png(png).numpy()
np.savez(out, **results)
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_network):
    """(tiny network path, its export folder, test image paths)."""
    folder = tmp_path_factory.mktemp("export")
    network = folder / "tiny.keras"
    shutil.copyfile(tiny_network, network)
    target = export.export(network, folder / "tiny", render_size=RENDER_SIZE)
    rng = np.random.default_rng(0)
    files = []
    for name, shape in [("rgb.png", (21, 34, 3)), ("gray.png", (17, 9)), ("tall.png", (40, 12, 3))]:
        pixels = np.round(rng.random(shape) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / name)
        files.append(folder / name)
    return network, target, files


def test_export_layout(exported):
    network, target, _ = exported
    assert target == network.parent / "tiny" / "1"
    assert (target / "saved_model.pb").is_file() and (target / "variables").is_dir()
    # No partial folder left; beside the version, what makes the folder a preset.
    assert sorted(p.name for p in target.parent.iterdir()) == ["1", "metadata.json", "tiny.keras"]


@pytest.mark.slow
def test_signatures_match_colorize_in_a_fresh_process(exported, tmp_path):
    network, target, files = exported
    out = tmp_path / "served.npz"
    subprocess.run(
        [sys.executable, "-c", SERVE, str(target), json.dumps([str(f) for f in files]), str(out)],
        check=True, timeout=300, cwd=tmp_path,
    )
    served = np.load(out)
    colorizer = inference.load(network)
    for i, path in enumerate(files):
        expected = inference.colorize(path, colorizer, render_size=RENDER_SIZE).astype(int)
        for signature in ("default", "encoded"):
            got = served[f"{signature}{i}"].astype(int)
            assert got.shape == expected.shape
            assert np.abs(got - expected).max() <= 1, (signature, path.name)


def test_signatures_are_dynamic_predict_signatures(exported):
    """What ``saved_model_cli show --all`` prints, read from saved_model.pb in-process."""
    from tensorflow.core.protobuf import saved_model_pb2

    _, target, _ = exported
    saved = saved_model_pb2.SavedModel.FromString((target / "saved_model.pb").read_bytes())
    signatures = saved.meta_graphs[0].signature_def

    def spec(tensor_info):
        dims = tuple(d.size for d in tensor_info.tensor_shape.dim)
        return tf.dtypes.as_dtype(tensor_info.dtype).name, dims

    default, encoded = signatures["serving_default"], signatures["colorize_encoded"]
    assert {k: spec(v) for k, v in default.inputs.items()} == {"images": ("uint8", (-1,) * 4)}
    assert {k: spec(v) for k, v in default.outputs.items()} == {
        "colorized": ("uint8", (-1, -1, -1, 3))}
    assert {k: spec(v) for k, v in encoded.inputs.items()} == {"image_bytes": ("string", (-1,))}
    assert {k: spec(v) for k, v in encoded.outputs.items()} == {
        "colorized_bytes": ("string", (-1,))}
    for signature in (default, encoded):
        assert signature.method_name == export.METHOD_NAME


def run_export(run_command, *argv):
    result = run_command(export.main, *argv)
    return result.code, result

def test_command_versions(exported, tmp_path, run_command):
    network, target, _ = exported
    base = tmp_path / "served"
    (base / "3").mkdir(parents=True)  # an older version already there
    (base / "3" / "keep").write_text("")
    code, _ = run_export(run_command, network, "--out", base, "--render-size", 16)
    assert code == 0 and (base / "4" / "saved_model.pb").is_file()
    code, output = run_export(run_command, network, "--out", base, "--version", 3)
    assert code == 2 and "exists" in output.err
    assert (base / "3" / "keep").exists()
    code, output = run_export(run_command, network)
    assert code == 2 and "--out is needed" in output.err


# --- TF Serving's REST protocol, driven with its own request types ----------------


def _post(url, body):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_rest_predict_protocol_serves_both_signatures(exported):
    import base64
    import io

    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    import tf_serving_rest

    network, target, files = exported
    colorizer = inference.load(network)
    expected = [inference.colorize(f, colorizer, render_size=RENDER_SIZE).astype(int)
                for f in files]
    pixels = np.asarray(Image.open(files[0]))

    with tf_serving_rest.Server(target.parent, "tiny") as server:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "tiny"
        request.model_spec.signature_name = "serving_default"
        request.model_spec.version.value = 1
        request.inputs["images"].CopyFrom(tf.make_tensor_proto(pixels[None]))
        status, reply = _post(tf_serving_rest.url_for(server.url, request),
                              tf_serving_rest.request_to_json(request))
        assert status == 200, reply
        got = np.array(reply["predictions"])
        assert got.shape == (1, *expected[0].shape)
        assert np.abs(got[0] - expected[0]).max() <= 1

        request = predict_pb2.PredictRequest()
        request.model_spec.name = "tiny"  # no version: the latest
        request.model_spec.signature_name = "colorize_encoded"
        data = [f.read_bytes() for f in files]
        request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(data))
        body = tf_serving_rest.request_to_json(request)
        assert body["instances"][0]["image_bytes"] == {"b64": base64.b64encode(data[0]).decode()}
        status, reply = _post(tf_serving_rest.url_for(server.url, request), body)
        assert status == 200, reply
        assert len(reply["predictions"]) == len(files)
        for prediction, want in zip(reply["predictions"], expected):
            png = Image.open(io.BytesIO(base64.b64decode(prediction["b64"])))
            assert np.abs(np.asarray(png).astype(int) - want).max() <= 1

        # What TF Serving answers to a wrong name, version or signature.
        status, _ = _post(f"{server.url}/v1/models/other:predict", body)
        assert status == 404
        status, _ = _post(f"{server.url}/v1/models/tiny/versions/9:predict", body)
        assert status == 404
        status, reply = _post(f"{server.url}/v1/models/tiny:predict",
                              {**body, "signature_name": "nope"})
        assert status == 400 and "nope" in reply["error"]
