"""The figures of one run as Markdown tables, as the README's Performance shows them."""


def _spread(summary, digits=2, unit="x"):
    return (f"{summary['median']:.{digits}f}{unit} "
            f"[{summary['min']:.{digits}f}..{summary['max']:.{digits}f}]")


def markdown_report(report):
    """The figures of one run as Markdown tables (what the README shows)."""
    cpu = report["cpu"]
    lines = [
        f"Measured in {report['wall_seconds']:.0f} s on {cpu['cores']} cores of an "
        f"{cpu['cpu']} (TensorFlow {report['versions']['tensorflow']} / Keras "
        f"{report['versions']['keras']}). Peak: {cpu['derivation']} = "
        f"{cpu['float32_gflops']:.0f} GFLOP/s float32, {cpu['bfloat16_gflops']:.0f} bfloat16.",
        "",
        "| model | parameters | float32 img/s | bfloat16 img/s | bf16 / f32 | "
        "float32 GFLOP/s (of peak) | bfloat16 GFLOP/s (of peak) |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in report["training"]:
        lines.append(
            f"| `{row['model']}` | {row['parameters'] / 1e6:.2f} M | "
            f"{row['f32_images_per_second']:.1f} | {row['bf16_images_per_second']:.1f} | "
            f"{_spread(row['bf16_speedup'])} | {row['f32_gflops']:.0f} "
            f"({row['f32_fraction_of_peak']:.0%}) | {row['bf16_gflops']:.0f} "
            f"({row['bf16_fraction_of_peak']:.0%}) |")
    lines += ["", "| U-Net training step | img/s | speed-up over the first row |",
              "| --- | ---: | --- |"]
    lines += [f"| {row['lever']} | {row['images_per_second']:.1f} | {_spread(row['speedup'])} |"
              for row in report["levers"]]
    lines += ["", "| tf.data pipeline | img/s | over U-Net / Pix2Pix training (float32) |",
              "| --- | ---: | --- |"]
    for row in report["pipeline"]:
        over = row["over_consumption"]
        lines.append(f"| {row['data']} | {row['images_per_second']:.0f} | "
                     + " / ".join(f"{v:.0f}x" for v in over.values()) + " |")
    lines += [f"| sample, {row['option']} | {row['images_per_second']:.0f} | "
              f"{_spread(row['speedup'])} of the default |"
              for row in report.get("pipeline_options", [])]
    lines += ["", "| photo | network at | in-process s | SavedModel s | peak memory GB "
              "(in-process / SavedModel) | full-size network takes |",
              "| --- | --- | --- | --- | --- | --- |"]
    for row in report["inference"]:
        memory = " / ".join("" if row[k] is None else f"{row[k]:.2f}"
                            for k in ("in_process_peak_gb", "saved_model_peak_gb"))
        full = _spread(row["full_over_this"], 1) if "full_over_this" in row else ""
        lines.append(f"| {row['size']} | {row['mode']} | "
                     f"{_spread(row['in_process_seconds'], 3, '')} | "
                     f"{_spread(row['saved_model_seconds'], 3, '')} | {memory} | {full} |")
    return "\n".join(lines) + "\n"
