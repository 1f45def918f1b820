"""The benchmarks (benchmarks/, beside the package) run end to end and report every field.

No speed is asserted. They are imported as ``python -m pytest`` from the
repository root sees them; ``python -m colorkeras.bench`` launches them.
"""

import json
import pathlib
import subprocess
import sys

import pytest

from benchmarks import peak, report, run, timing
from benchmarks.pipeline import PIPELINE_OPTIONS
from colorkeras import bench

TRAINING_FIELDS = {
    "model", "parameters", "forward_gflops_per_image", "f32_images_per_second",
    "bf16_images_per_second", "f32_gflops", "bf16_gflops", "f32_fraction_of_peak",
    "bf16_fraction_of_peak", "f32_step_seconds", "bf16_step_seconds", "bf16_speedup",
}
INFERENCE_FIELDS = {
    "size", "pixels", "mode", "in_process_seconds", "saved_model_seconds",
    "in_process_peak_gb", "saved_model_peak_gb", "saved_model_over_in_process",
}
ROOT = pathlib.Path(__file__).resolve().parent.parent


def bench_sample_photos():
    from colorkeras.data import SAMPLE_DIR

    return list(SAMPLE_DIR.glob("*.jpg"))


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
    run.main([
        "--quick", "--json", str(out), "--markdown", str(tmp_path / "bench.md"),
        "--train-size", "32", "--batch-size", "2", "--clock-ghz", "3.5",
        "--train-steps", "1", "--repeats", "1", "--inference-sizes", "256x256",
        "--hparam", "base_filters=4", "--hparam", "depth=1", "--folder", str(folder),
    ])
    report = json.loads(out.read_text())
    assert {"cpu", "versions", "settings", "training", "levers", "pipeline", "inference",
            "wall_seconds"} <= set(report)
    assert [row["lever"] for row in report["levers"]] == list(run.QUICK_LEVERS)
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
    assert [row["option"] for row in report["pipeline_options"]] == list(PIPELINE_OPTIONS)
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
    assert peak.forward_flops(model) == expected


def test_alternate_interleaves_and_ratios_are_per_round():
    calls = []
    times = timing.alternate({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b"] * 3 and [len(v) for v in times.values()] == [3, 3]
    assert timing.ratio_summary([2.0, 9.0, 4.0], [1.0, 3.0, 1.0]) == {
        "median": 3.0, "min": 2.0, "max": 4.0, "n": 3}


def spread(median, low, high):
    return {"median": median, "min": low, "max": high, "n": 3}


REPORT = {
    "wall_seconds": 12.3,
    "cpu": {"cores": 2, "cpu": "AMD EPYC", "derivation": "2 cores x 2.60 GHz",
            "float32_gflops": 166.4, "bfloat16_gflops": 332.8},
    "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
    "training": [{"model": "unet", "parameters": 1_950_000, "f32_images_per_second": 37.3,
                  "bf16_images_per_second": 61.9, "bf16_speedup": spread(1.64, 1.62, 1.82),
                  "f32_gflops": 168.2, "f32_fraction_of_peak": 1.011, "bf16_gflops": 280.4,
                  "bf16_fraction_of_peak": 0.843}],
    "levers": [{"lever": "float32, fused batch norm", "images_per_second": 38.3,
                "speedup": spread(1.19, 1.18, 1.36)}],
    "pipeline": [{"data": "sample", "images_per_second": 10886.2,
                  "over_consumption": {"unet": 291.9, "pix2pix": 875.1}}],
    "pipeline_options": [{"option": "no cache (decode every epoch)", "images_per_second": 1828,
                          "speedup": spread(0.26, 0.25, 0.26)}],
    "inference": [
        {"size": "12MP", "mode": "render512", "in_process_seconds": spread(0.473, 0.464, 0.528),
         "saved_model_seconds": spread(0.47, 0.47, 0.543), "in_process_peak_gb": 0.48,
         "saved_model_peak_gb": None, "full_over_this": spread(14.8, 13.3, 14.9)},
        {"size": "12MP", "mode": "full", "in_process_seconds": spread(7.031, 6.849, 7.033),
         "saved_model_seconds": spread(6.877, 6.753, 7.057), "in_process_peak_gb": 4.95,
         "saved_model_peak_gb": 4.95},
    ],
}
# What the README's Performance tables look like: the report must keep this layout.
EXPECTED_MARKDOWN = """\
Measured in 12 s on 2 cores of an AMD EPYC (TensorFlow 2.21.0 / Keras 3.15.1). \
Peak: 2 cores x 2.60 GHz = 166 GFLOP/s float32, 333 bfloat16.

| model | parameters | float32 img/s | bfloat16 img/s | bf16 / f32 | \
float32 GFLOP/s (of peak) | bfloat16 GFLOP/s (of peak) |
|---|---:|---:|---:|---|---:|---:|
| `unet` | 1.95 M | 37.3 | 61.9 | 1.64x [1.62..1.82] | 168 (101%) | 280 (84%) |

| U-Net training step | img/s | speed-up over the first row |
|---|---:|---|
| float32, fused batch norm | 38.3 | 1.19x [1.18..1.36] |

| tf.data pipeline | img/s | over U-Net / Pix2Pix training (float32) |
|---|---:|---|
| sample | 10886 | 292x / 875x |
| sample, no cache (decode every epoch) | 1828 | 0.26x [0.25..0.26] of the default |

| photo | network at | in-process s | SavedModel s | peak memory GB \
(in-process / SavedModel) | full-size network takes |
|---|---|---|---|---|---|
| 12MP | render512 | 0.473 [0.464..0.528] | 0.470 [0.470..0.543] | 0.48 /  | 14.8x [13.3..14.9] |
| 12MP | full | 7.031 [6.849..7.033] | 6.877 [6.753..7.057] | 4.95 / 4.95 |  |
"""


def test_markdown_report_keeps_the_readme_layout():
    assert report.markdown_report(REPORT) == EXPECTED_MARKDOWN


def test_launcher_forwards_the_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--help"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: python -m colorkeras.bench") and "--clock-ghz" in help_text
    with pytest.raises(bench.cli.UsageError, match="unknown model"):
        bench.main(["--models", "nope"])


def test_launcher_without_a_checkout_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "CHECKOUT", tmp_path)  # an installed package: no benchmarks/
    with pytest.raises(bench.cli.UsageError) as error:
        bench.main(["--help"])  # were the check missed, help would exit, not a long run start
    assert "python -m benchmarks" in str(error.value) and "\n" not in str(error.value)


def test_the_package_does_not_import_the_benchmarks():
    importers = [path.name for path in (ROOT / "colorkeras").rglob("*.py")
                 if "import benchmarks" in path.read_text() or
                 "from benchmarks" in path.read_text()]
    assert importers == ["bench.py"]


def test_benchmarks_help_names_its_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: python -m benchmarks" in out and "--quick" in out


@pytest.mark.slow
def test_the_launcher_finds_the_benchmarks_from_any_folder(tmp_path):
    """The one real process: ``python -m colorkeras.bench`` run outside the checkout."""
    result = subprocess.run([sys.executable, "-m", "colorkeras.bench", "--help"], cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    assert "usage: python -m colorkeras.bench" in result.stdout and "--quick" in result.stdout


def test_time_to_quality_gan_after_starts_from_a_unet_of_its_own_network(tmp_path):
    """``--pair pix2pix``'s "after" GAN loads its start's weights: the same generator shape."""
    from benchmarks import time_to_quality
    from colorkeras import train
    from colorkeras.models.unet import UNet

    def config(arguments):
        return train.config_from_args(train.build_parser().parse_args(
            [*arguments, "--data", str(tmp_path), "--out", str(tmp_path / "run")]))

    (_, start), (folder, gan) = time_to_quality.training_runs("pix2pix", "after", "out", 7)
    start, gan = config(start), config(gan)
    assert (start.model, start.epochs, gan.model) == ("unet", 7, "pix2pix")
    assert gan.init_from == "out/after-start/last.keras" and folder == "out/after"
    assert UNet.check_hparams(gan.hparams) == UNet.check_hparams(start.hparams)
    assert UNet.check_hparams(gan.hparams)["output_stride"] == 4
    (_, before), = time_to_quality.training_runs("pix2pix", "before", "out", 7)
    assert UNet.check_hparams(config(before).hparams)["output_stride"] == 2  # the shipped unet's


def test_time_to_quality_reports_the_gan_pair_with_its_start(tmp_path, capsys):
    from benchmarks import time_to_quality

    def history(name, rows):  # (training CPU-s, select ΔE2000) per epoch, 60 s of validation
        (tmp_path / name).mkdir()
        lines = ["epoch,cpu_seconds,validation_cpu_seconds,val_delta_e2000,val_colorfulness_ratio"]
        lines += [f"{i},{cpu + 60 * (i + 1)},{60 * (i + 1)},{delta_e},0.5"
                  for i, (cpu, delta_e) in enumerate(rows)]
        (tmp_path / name / "history.csv").write_text("\n".join(lines) + "\n")

    history("before", [(300, 10.2), (600, 10.1), (900, 10.0)])
    history("after-start", [(330, 10.5), (660, 10.09)])
    history("after", [(100, 10.1), (200, 9.99)])
    assert time_to_quality.report(str(tmp_path), "pix2pix") == pytest.approx(900 / 200)
    out = capsys.readouterr().out
    assert "for 2 epochs, select ΔE2000 10.090 after 11.0 training CPU-minutes" in out
    assert "| 3 | 4,800 | 15.0 | 10.000 | 0.500 |  |  |  |" in out
