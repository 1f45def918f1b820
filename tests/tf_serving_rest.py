"""A stand-in for TF Serving's REST predict API, for tests only: not a product server.

No TF Serving binary installs here, so this serves an exported SavedModel
(loaded with `tf.saved_model.load`, as TF Serving loads it) over the same
protocol: ``POST /v1/models/NAME[/versions/N]:predict`` with
``{"signature_name": ..., "instances": [...]}`` (row format) or
``{"inputs": ...}`` (columnar), binary values as ``{"b64": ...}``, and
outputs whose names end in ``_bytes`` sent back base64-encoded. The real
server is ``docker run -p 8501:8501 -v "$PWD/exported_models/pix2pix:/models/pix2pix"
-e MODEL_NAME=pix2pix tensorflow/serving`` (README, "Serving").

The client side turns an official ``tensorflow_serving.apis.predict_pb2.PredictRequest``
into that JSON, so the tests speak TF Serving's own request types.
"""

import base64
import http.server
import json
import pathlib
import re
import threading

import numpy as np
import tensorflow as tf

PATH = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?:predict$")


def _decode(value, dtype):
    """JSON value -> numpy, with ``{"b64": ...}`` leaves as bytes."""
    if dtype == tf.string:
        def leaf(v):
            return base64.b64decode(v["b64"]) if isinstance(v, dict) else v.encode()

        def walk(v):
            return [walk(x) for x in v] if isinstance(v, list) else leaf(v)

        return np.array(walk(value), dtype=object)
    return np.array(value, dtype=dtype.as_numpy_dtype)


def _encode(name, array):
    """numpy -> JSON value; ``*_bytes`` outputs go out base64-encoded."""
    if name.endswith("_bytes"):
        return [{"b64": base64.b64encode(bytes(x)).decode()} for x in array.ravel()]
    return array.tolist()


class Server:
    """Serve ``base/<version>/`` SavedModels as model ``name`` on 127.0.0.1."""

    def __init__(self, base, name):
        self.name = name
        self.models = {
            int(p.name): tf.saved_model.load(str(p))
            for p in pathlib.Path(base).iterdir() if p.name.isdigit()
        }
        handler = self._handler()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def predict(self, name, version, body):
        if name != self.name:
            return 404, {"error": f"Servable not found for request: Latest({name})"}
        version = max(self.models) if version is None else int(version)
        if version not in self.models:
            return 404, {"error": f"Servable not found for request: Specific({name}, {version})"}
        signatures = self.models[version].signatures
        signature_name = body.get("signature_name", "serving_default")
        if signature_name not in signatures:
            return 400, {"error": f"Serving signature name: \"{signature_name}\" not found"}
        function = signatures[signature_name]
        specs = function.structured_input_signature[1]
        if "instances" in body:
            rows = body["instances"]
            if len(specs) == 1 and not all(isinstance(r, dict) for r in rows):
                rows = [{next(iter(specs)): r} for r in rows]
            columns = {key: [row[key] for row in rows] for key in specs}
        else:
            columns = body["inputs"]
            columns = columns if isinstance(columns, dict) else {next(iter(specs)): columns}
        try:
            inputs = {k: tf.constant(_decode(v, specs[k].dtype)) for k, v in columns.items()}
            outputs = {k: v.numpy() for k, v in function(**inputs).items()}
        except (tf.errors.OpError, ValueError, TypeError, KeyError) as error:
            return 400, {"error": str(error).splitlines()[0]}
        if "instances" in body:
            if len(outputs) == 1:
                (key, value), = outputs.items()
                return 200, {"predictions": _encode(key, value)}
            count = len(next(iter(outputs.values())))
            return 200, {"predictions": [
                {k: _encode(k, v[i:i + 1])[0] for k, v in outputs.items()} for i in range(count)
            ]}
        return 200, {"outputs": {k: _encode(k, v) for k, v in outputs.items()}}

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet in tests
                pass

            def do_POST(self):
                match = PATH.match(self.path)
                if not match:
                    return self._reply(404, {"error": "Malformed request: POST " + self.path})
                try:
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                except (ValueError, TypeError):
                    return self._reply(400, {"error": "JSON Parse error"})
                self._reply(*server.predict(match["name"], match["version"], body))

            def _reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def request_to_json(request):
    """A `predict_pb2.PredictRequest` as TF Serving's REST body (row format).

    String tensors go out as ``{"b64": ...}``, as TF Serving expects for
    binary data.
    """
    columns = {}
    for key, proto in request.inputs.items():
        array = tf.make_ndarray(proto)
        if array.dtype == object:
            columns[key] = [{"b64": base64.b64encode(x).decode()} for x in array.ravel()]
        else:
            columns[key] = array.tolist()
    count = len(next(iter(columns.values())))
    instances = [{k: v[i] for k, v in columns.items()} for i in range(count)]
    return {"signature_name": request.model_spec.signature_name or "serving_default",
            "instances": instances}


def url_for(base_url, request):
    """The REST URL a `PredictRequest`'s model spec addresses."""
    spec = request.model_spec
    version = f"/versions/{spec.version.value}" if spec.HasField("version") else ""
    return f"{base_url}/v1/models/{spec.name}{version}:predict"
