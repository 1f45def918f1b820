"""tf.data throughput of the training pipeline, against what training consumes.

The pipeline only matters if it cannot keep up with the training step, so
its images/s are reported as a multiple of the models' training rates.
"""

import os
import time

from benchmarks.timing import speedup_rows

PIPELINE_OPTIONS = {
    "seeded, cached (training default)": dict(seed=0, cache=True),
    "unseeded: deterministic=False": dict(seed=None, cache=True),
    "no cache (decode every epoch)": dict(seed=0, cache=False),
}
CONSUMERS = ("unet", "pix2pix")


def _warm_iterator(data, batch_size, image_size, crop_size, **options):
    """The pipeline and an iterator past its first pass, which fills the cache."""
    from colorkeras.data import make_dataset

    pipeline = make_dataset(data, "train", image_size=image_size, crop_size=crop_size,
                            batch_size=batch_size, **options)
    iterator = iter(pipeline.dataset)
    for _ in range(max(pipeline.steps, 1) + 2):  # one pass fills the cache
        next(iterator)
    return pipeline, iterator


def bench_pipeline(data, batch_size=16, batches=20, image_size=256, crop_size=128):
    """Images/s of the training pipeline once its cache is warm."""
    pipeline, iterator = _warm_iterator(data, batch_size, image_size, crop_size, seed=0)
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    seconds = time.perf_counter() - started
    return {"data": data, "images": pipeline.num_images,
            "images_per_second": batches * batch_size / seconds}


def bench_sources(folder, training_rows, batch_size=16, batches=20, crop_size=128):
    """The sample's pipeline, and ``folder``'s if it is another, over training's rates.

    ``training_rows`` are `training.bench_training`'s; each row gets
    ``over_consumption``: its images/s over the float32 U-Net's and Pix2Pix's.
    """
    from colorkeras.data import SAMPLE_DIR

    # The sample is itself a folder (SAMPLE_DIR): a second row only for another one.
    rows = [bench_pipeline("sample", batch_size, batches, crop_size=crop_size)]
    if folder and os.path.realpath(folder) != os.path.realpath(SAMPLE_DIR):
        rows.append(bench_pipeline(folder, batch_size, batches, crop_size=crop_size))
        rows[1]["data"] = "folder:" + rows[1]["data"]
    consumers = {row["model"]: row["f32_images_per_second"] for row in training_rows
                 if row["model"] in CONSUMERS}
    for row in rows:
        row["over_consumption"] = {name: row["images_per_second"] / rate
                                   for name, rate in consumers.items()}
        ratios = ", ".join(f"{v:.0f}x {k}" for k, v in row["over_consumption"].items())
        print(f"  {row['data']}: {row['images_per_second']:.0f} img/s ({ratios})", flush=True)
    return rows


def bench_pipeline_options(data, batch_size=16, batches=20, repeats=3, image_size=256,
                           crop_size=128):
    """The tf.data levers, alternating: images/s and ratio to the default."""
    iterators = {name: _warm_iterator(data, batch_size, image_size, crop_size, **options)[1]
                 for name, options in PIPELINE_OPTIONS.items()}
    # Between its rounds an idle pipeline refills its prefetch buffer, which
    # would then be timed instead of the pipeline: drain it first, untimed.
    times = {name: [] for name in iterators}
    for _ in range(repeats):
        for name, iterator in iterators.items():
            for _ in range(batches):
                next(iterator)
            started = time.perf_counter()
            for _ in range(batches):
                next(iterator)
            times[name].append(time.perf_counter() - started)
    per_image = {name: [t / (batches * batch_size) for t in v] for name, v in times.items()}
    return speedup_rows("option", per_image, "seeded, cached (training default)")
