"""Inference time and peak memory per image, in process against the SavedModel.

Render size decides both cost and quality, so each photo size is measured
with the network at 256, at 512 and at full resolution, both ways of serving.
"""

import os

from benchmarks.timing import alternate, ratio_summary, summarize_times

INFERENCE_SIZES = {"256x256": (256, 256), "1MP": (864, 1152), "12MP": (3000, 4000)}
RENDER_MODES = {"render256": 256, "render512": 512, "full": None}


def _photo(shape, seed=0):
    """A smooth synthetic photo: gradients plus a few soft blobs, uint8."""
    import numpy as np

    from colorkeras import images

    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    image = np.stack([x / w, y / h, 0.5 + 0.5 * np.sin((x + y) / (0.1 * (h + w)))], -1)
    for _ in range(4):
        cy, cx, r = rng.random(3) * [h, w, 0.3 * min(h, w)]
        image += 0.3 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r + 1))[..., None]
    return images.to_uint8(np.clip(image, 0, 1))[None]


def _runner(kind, colorizer, export_dir, render_size):
    """A callable colorizing a uint8 batch in process or through the SavedModel."""
    import tensorflow as tf

    if kind == "in_process":
        return lambda images: colorizer.colorize(images, render_size=render_size).numpy()
    serving = tf.saved_model.load(export_dir).signatures["serving_default"]
    return lambda images: serving(images=tf.constant(images))["colorized"].numpy()


def _peak_memory_child(queue, model, export_dir, kind, shape, render_size):
    """Peak resident memory (GB) above the loaded state for one colorize call."""
    from colorkeras.inference import load

    colorizer = load(model)
    run = _runner(kind, colorizer, export_dir, render_size)
    images = _photo(shape)
    baseline = _status_kb("VmRSS")
    run(images)
    queue.put((_status_kb("VmHWM") - baseline) / 1e6)


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_memory_gb(model, export_dir, kind, shape, render_size):
    """Measure in a fresh process: one process's high-water mark is one figure."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_peak_memory_child,
                            args=(queue, model, export_dir, kind, shape, render_size))
    import queue as queues

    child.start()
    try:  # read before joining: a child blocks on exit until its queue is drained
        while True:
            try:
                return queue.get(timeout=1)
            except queues.Empty:
                if not child.is_alive():  # it died without a figure (its last put is in)
                    return queue.get(timeout=1) if not child.exitcode else None
    except queues.Empty:
        return None
    finally:
        child.join()


def bench_inference(model, sizes, modes, repeats, memory=True):
    """Seconds and peak memory per image, in process against the SavedModel.

    For each photo size every render mode runs both ways, all alternating in
    one loop, so the ratios (SavedModel over in-process, and the full-size
    network over each render size) come from the same rounds.
    """
    import tempfile

    from colorkeras.export import export
    from colorkeras.inference import load

    colorizer = load(model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # A SavedModel renders at the size it was exported with: one per mode.
        export_dirs = {mode: export(model, os.path.join(tmp, mode), version=1,
                                    render_size=RENDER_MODES[mode]) for mode in modes}
        for size_name in sizes:
            shape = INFERENCE_SIZES[size_name]
            images = _photo(shape)
            runs = {(mode, kind): _runner(kind, colorizer, export_dirs[mode], RENDER_MODES[mode])
                    for mode in modes for kind in ("in_process", "saved_model")}
            for run in runs.values():
                run(images)  # trace and warm up
            times = alternate({k: (lambda r=r: r(images)) for k, r in runs.items()}, repeats)
            for mode in modes:
                row = {"size": size_name, "pixels": shape[0] * shape[1], "mode": mode}
                for kind in ("in_process", "saved_model"):
                    row[f"{kind}_seconds"] = summarize_times(times[mode, kind])
                    row[f"{kind}_peak_gb"] = (
                        peak_memory_gb(model, export_dirs[mode], kind, shape,
                                       RENDER_MODES[mode])
                        if memory else None
                    )
                row["saved_model_over_in_process"] = ratio_summary(
                    times[mode, "saved_model"], times[mode, "in_process"])
                if "full" in modes and mode != "full":
                    row["full_over_this"] = ratio_summary(
                        times["full", "in_process"], times[mode, "in_process"])
                rows.append(row)
                print(_inference_line(row), flush=True)
    return rows


def tiny_model_path(name, hparams, folder):
    """An untrained colorizer with the overrides, saved as a .keras file in ``folder``."""
    from benchmarks.training import colorization_network
    from colorkeras.colorizer import Colorizer

    path = os.path.join(folder, f"{name}.keras")
    Colorizer(colorization_network(name, **hparams)).save(path)
    return path


def _inference_line(row):
    a, b = row["in_process_seconds"], row["saved_model_seconds"]
    mem = row["in_process_peak_gb"]
    mem_text = f"{mem:5.2f} GB" if mem is not None else "   -   "
    return (
        f"  {row['size']:<8} {row['mode']:<10} in-process {a['median']:7.3f} s "
        f"[{a['min']:.3f}..{a['max']:.3f}] peak +{mem_text}   "
        f"SavedModel {b['median']:7.3f} s [{b['min']:.3f}..{b['max']:.3f}]"
        + (f"   full size takes {row['full_over_this']['median']:.1f}x"
           if "full_over_this" in row else "")
    )
