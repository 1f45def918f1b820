"""The benchmark command runs end to end and reports every field (no speed asserted)."""

import json

from colorkeras import bench


def bench_sample_photos():
    from colorkeras.data import SAMPLE_DIR

    return list(SAMPLE_DIR.glob("*.jpg"))

TRAINING_FIELDS = {
    "model", "parameters", "forward_gflops_per_image", "f32_images_per_second",
    "bf16_images_per_second", "f32_gflops", "bf16_gflops", "f32_fraction_of_peak",
    "bf16_fraction_of_peak", "f32_step_seconds", "bf16_step_seconds", "bf16_speedup",
}
INFERENCE_FIELDS = {
    "size", "pixels", "mode", "in_process_seconds", "saved_model_seconds",
    "in_process_peak_gb", "saved_model_peak_gb", "saved_model_over_in_process",
}


def test_quick_bench_writes_every_field(tmp_path, monkeypatch):
    import tempfile

    out = tmp_path / "bench.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the bench's temporary files go
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in sorted(bench_sample_photos())[:8]:
        (folder / path.name).write_bytes(path.read_bytes())
    bench.main([
        "--quick", "--json", str(out), "--markdown", str(tmp_path / "bench.md"),
        "--train-size", "32", "--batch-size", "2", "--clock-ghz", "3.5",
        "--train-steps", "1", "--repeats", "1", "--inference-sizes", "256x256",
        "--hparam", "base_filters=4", "--hparam", "depth=1", "--folder", str(folder),
    ])
    report = json.loads(out.read_text())
    assert {"cpu", "versions", "settings", "training", "levers", "pipeline", "inference",
            "wall_seconds"} <= set(report)
    assert [row["lever"] for row in report["levers"]] == list(bench.QUICK_LEVERS)
    assert all(row["images_per_second"] > 0 for row in report["levers"])
    assert report["cpu"]["float32_gflops"] > 0 and "cores" in report["cpu"]["derivation"]
    assert report["cpu"]["ghz"] == 3.5 and "--clock-ghz" in report["cpu"]["derivation"]
    assert [row["model"] for row in report["training"]] == ["unet", "pix2pix"]
    for row in report["training"]:
        assert TRAINING_FIELDS <= set(row)
        assert row["f32_images_per_second"] > 0 and row["forward_gflops_per_image"] > 0
        assert {"median", "min", "max", "n"} <= set(row["bf16_speedup"])
    # Two distinct sources: the sample, and the folder given (not the sample twice).
    assert [row["data"] for row in report["pipeline"]] == ["sample", f"folder:{folder}"]
    # The bench's temporary model and exports are gone (autograph leaves its own files).
    assert [p for p in scratch.iterdir() if p.name.startswith(("colorkeras-bench-", "tmp"))
            and p.is_dir()] == []
    for row in report["pipeline"]:
        assert row["images_per_second"] > 0 and set(row["over_consumption"]) == {"unet", "pix2pix"}
    assert [row["option"] for row in report["pipeline_options"]] == list(bench.PIPELINE_OPTIONS)
    assert all(row["images_per_second"] > 0 for row in report["pipeline_options"])
    assert [row["mode"] for row in report["inference"]] == ["render256", "render512"]
    for row in report["inference"]:
        assert INFERENCE_FIELDS <= set(row)
    markdown = (tmp_path / "bench.md").read_text()
    assert markdown.count("\n| `") == 2 and "render512" in markdown


def test_forward_flops_counts_convolutions():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    outputs = keras.layers.Conv2DTranspose(2, 2, strides=2)(x)
    model = keras.Model(inputs, outputs)
    expected = 2 * 8 * 8 * 9 * 1 * 4 + 2 * 8 * 8 * 4 * 4 * 2
    assert bench.forward_flops(model) == expected
