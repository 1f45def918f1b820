"""The figures of one run as Markdown tables, as the README's Performance shows them.

Every table goes through `colorkeras.markdown.table`, so the benchmark's
tables read like the package's other reports.
"""

from colorkeras.markdown import table


def _spread(summary, digits=2, unit="x"):
    return (f"{summary['median']:.{digits}f}{unit} "
            f"[{summary['min']:.{digits}f}..{summary['max']:.{digits}f}]")


def markdown_report(report):
    """The figures of one run (what ``--json`` writes) as Markdown tables."""
    cpu = report["cpu"]
    intro = (
        f"Measured in {report['wall_seconds']:.0f} s on {cpu['cores']} cores of an "
        f"{cpu['cpu']} (TensorFlow {report['versions']['tensorflow']} / Keras "
        f"{report['versions']['keras']}). Peak: {cpu['derivation']} = "
        f"{cpu['float32_gflops']:.0f} GFLOP/s float32, {cpu['bfloat16_gflops']:.0f} bfloat16."
    )
    training = table(
        ["model", "parameters", "float32 img/s", "bfloat16 img/s", "bf16 / f32",
         "float32 GFLOP/s (of peak)", "bfloat16 GFLOP/s (of peak)"],
        ([f"`{row['model']}`", f"{row['parameters'] / 1e6:.2f} M",
          f"{row['f32_images_per_second']:.1f}", f"{row['bf16_images_per_second']:.1f}",
          _spread(row["bf16_speedup"]),
          f"{row['f32_gflops']:.0f} ({row['f32_fraction_of_peak']:.0%})",
          f"{row['bf16_gflops']:.0f} ({row['bf16_fraction_of_peak']:.0%})"]
         for row in report["training"]),
        ["left", "right", "right", "right", "left", "right", "right"],
    )
    levers = table(
        ["U-Net training step", "img/s", "speed-up over the first row"],
        ([row["lever"], f"{row['images_per_second']:.1f}", _spread(row["speedup"])]
         for row in report["levers"]),
        ["left", "right", "left"],
    )
    sources = [[row["data"], f"{row['images_per_second']:.0f}",
                " / ".join(f"{v:.0f}x" for v in row["over_consumption"].values())]
               for row in report["pipeline"]]
    options = [[f"sample, {row['option']}", f"{row['images_per_second']:.0f}",
                f"{_spread(row['speedup'])} of the default"]
               for row in report.get("pipeline_options", [])]
    pipeline = table(
        ["tf.data pipeline", "img/s", "over U-Net / Pix2Pix training (float32)"],
        sources + options,
        ["left", "right", "left"],
    )
    inference = table(
        ["photo", "network at", "in-process s", "SavedModel s",
         "peak memory GB (in-process / SavedModel)", "full-size network takes"],
        ([row["size"], row["mode"], _spread(row["in_process_seconds"], 3, ""),
          _spread(row["saved_model_seconds"], 3, ""),
          " / ".join("" if row[k] is None else f"{row[k]:.2f}"
                     for k in ("in_process_peak_gb", "saved_model_peak_gb")),
          _spread(row["full_over_this"], 1) if "full_over_this" in row else ""]
         for row in report["inference"]),
    )
    return "\n\n".join([intro, training, levers, pipeline, inference]) + "\n"
