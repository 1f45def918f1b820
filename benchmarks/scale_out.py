"""Scale-out figures: TFRecord shards against loose files, 1 worker against 2.

    python benchmarks/scale_out.py [--data sample] [--batches 40] [--steps 20]

1. Input pipeline throughput (photos/s) of the training pipeline, uncached,
   from the loose files of ``--data`` and from TFRecord shards packed from it
   (`python -m colorkeras.data pack`), on all cores.
2. Time per U-Net training step at the same global batch (16 crops of 128):
   one process on 1 core, one process on 2 cores, and 2 worker processes of
   1 core each under MultiWorkerMirroredStrategy on 127.0.0.1, which shows
   the cost of the collective ops honestly. Measured over the second epoch
   of a 2-epoch run (the first includes tracing).
"""

import argparse
import csv
import os
import pathlib
import subprocess
import sys
import tempfile
import time


def throughput(spec, batches, batch_size=16):
    from colorkeras.data import make_dataset

    pipeline = make_dataset(spec, "train", image_size=256, crop_size=128,
                            batch_size=batch_size, seed=0, cache=False)
    iterator = iter(pipeline.dataset)
    next(iterator)  # warm-up
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def step_seconds(folder, data, steps, workers, threads):
    """Seconds per step over the second epoch of a run with ``workers`` processes."""
    from colorkeras import distribution

    out = pathlib.Path(folder) / f"run-{workers}x{threads}"
    args = [sys.executable, "-m", "colorkeras.train", "--model", "unet", "--data", data,
            "--batch-size", "16", "--epochs", "2", "--steps-per-epoch", str(steps),
            "--quiet", "--out", str(out)]
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": str(threads),
           "TF_NUM_INTEROP_THREADS": str(threads)}
    if workers == 1:
        processes = [subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)]
    else:
        cluster = distribution.local_cluster(workers)
        processes = []
        for index in range(workers):
            processes.append(subprocess.Popen(
                [*args, "--distribution", "multi-worker"],
                env={**env, "TF_CONFIG": distribution.tf_config(cluster, index)},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for process in processes:
        if process.wait() != 0:
            raise RuntimeError(f"a training process failed ({workers} worker(s))")
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    return (float(rows[1]["elapsed_seconds"]) - float(rows[0]["elapsed_seconds"])) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sample", help="a photo folder (default: the sample)")
    parser.add_argument("--batches", type=int, default=40, help="batches timed per pipeline")
    parser.add_argument("--steps", type=int, default=20, help="training steps per epoch")
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args(argv)

    from colorkeras import cli

    cli.quiet_tensorflow()
    from colorkeras import shards

    with tempfile.TemporaryDirectory() as folder:
        packed = pathlib.Path(folder) / "shards"
        start = time.perf_counter()
        shards.pack(args.data, packed, shards=args.shards, image_size=512, progress=False)
        pack_seconds = time.perf_counter() - start
        loose = throughput(args.data, args.batches)
        sharded = throughput(f"tfrecord:{packed}", args.batches)
        # Steps on the embedded sample: cached after the first epoch, so the
        # second times the step, not the decoding of a large folder.
        steps = {(w, t): step_seconds(folder, "sample", args.steps, w, t)
                 for w, t in ((1, 1), (1, 2), (2, 1))}
    print(f"\nData: {args.data}; packed into {args.shards} shards per split in "
          f"{pack_seconds:.0f} s.\n")
    print("| input pipeline (uncached, 256 px, 128 crops) | photos/s |")
    print("|---|---|")
    print(f"| loose files | {loose:.0f} |")
    print(f"| TFRecord shards | {sharded:.0f} |")
    print(f"\nU-Net training step (the embedded sample, cached), global batch 16 of "
          f"128x128 crops, {args.steps}-step epochs:\n")
    print("| processes x threads | ms/step | relative to 1 x 1 |")
    print("|---|---|---|")
    for (w, t), seconds in steps.items():
        label = "1 process" if w == 1 else f"{w} workers (MultiWorkerMirroredStrategy)"
        print(f"| {label}, {t} thread(s) each | {seconds * 1000:.0f} | "
              f"{steps[(1, 1)] / seconds:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
