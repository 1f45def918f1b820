"""One U-Net training step, timed on two versions of colorkeras in one run.

    python benchmarks/step_before_after.py --before 8f6537b --after . --repeats 3
    python benchmarks/step_before_after.py --before ddeff7e --recipe encoder --freeze 1

A redesign must not slow training down, and two runs at different times on
a shared machine are not comparable, so both versions run here in
alternating child processes (before, after, before, after, ...), each
timing ``--steps`` steps of ``fit`` on one fixed batch after a warm-up.
``--before`` and ``--after`` are git revisions (checked out to a temporary
worktree) or folders holding a checkout. Each child builds the model the way
its version's ``python -m colorkeras.train`` does: `training.build_colorizer`
from 0.2, `train.build_trainer` before. ``--recipe encoder`` times the shipped
``unet``'s recipe instead (the EfficientNet-Lite0 U-Net, a*b* classification
at output stride 2) under its `callbacks.EncoderSchedule`, with the encoder
frozen (``--freeze 1``) or fine-tuned at 0.1x (``--freeze 0``). Each child
also prints a fingerprint of the weights it ends with (every process trains
the same batch from the same seed), so that a speed-up that changed what is
learned shows.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
import numpy as np, tensorflow as tf, keras
try:
    from colorkeras.training import build_colorizer as build
    from colorkeras.training_config import TrainConfig
except ImportError:  # colorkeras 0.1: the command module held the set-up
    from colorkeras.train import TrainConfig, build_trainer as build
settings = json.loads(sys.argv[1])
keras.utils.set_random_seed(0)
if settings["policy"] != "float32":
    keras.mixed_precision.set_global_policy(settings["policy"])
callbacks = []
if settings["recipe"] == "encoder":
    from colorkeras.callbacks import EncoderSchedule
    config = TrainConfig(model="unet", color_space="lab", loss="classification",
                         class_rebalance=1.0, batch_size=settings["batch"],
                         freeze_encoder_epochs=1000 * settings["freeze"], encoder_lr_scale=0.1,
                         hparams=dict(backbone="efficientnet_lite0", base_filters=16,
                                      output_stride=2, encoder_weights="none"))
    callbacks = [EncoderSchedule(config.freeze_encoder_epochs, config.encoder_lr_scale)]
else:
    config = TrainConfig(model="unet", color_space="lab", loss="mae", batch_size=settings["batch"])
model = build(config)
rng = np.random.default_rng(0)
size, batch = settings["size"], settings["batch"]
gray = rng.random((batch, size, size, 1), dtype=np.float32)
target = rng.uniform(-0.3, 0.3, (batch, size, size, 2)).astype(np.float32)
if hasattr(model, "build_state"):
    model.build_state(gray)
data = tf.data.Dataset.from_tensors((gray, target)).repeat()
model.fit(data, epochs=1, steps_per_epoch=settings["warmup"], verbose=0, callbacks=callbacks)
start, cpu_start = time.perf_counter(), time.process_time()
model.fit(data, epochs=1, steps_per_epoch=settings["steps"], verbose=0, callbacks=callbacks)
seconds = (time.perf_counter() - start) / settings["steps"]
cpu_seconds = (time.process_time() - cpu_start) / settings["steps"]
fingerprint = float(sum(np.abs(w).sum() for w in model.get_weights()))
import colorkeras
print(json.dumps({"seconds_per_step": seconds, "cpu_seconds_per_step": cpu_seconds,
                  "fingerprint": fingerprint, "code": colorkeras.__file__}))
"""


def checkout(revision, scratch):
    """A folder holding ``revision``: the folder itself, or a temporary git worktree."""
    if os.path.isdir(revision):
        return pathlib.Path(revision).resolve()
    folder = pathlib.Path(scratch) / revision.replace("/", "_")
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), revision], check=True,
                   capture_output=True)
    return folder


def time_step(source, settings):
    """Figures of a training step of the colorkeras in ``source``, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(source), "TF_CPP_MIN_LOG_LEVEL": "3"}
    # Run from the checkout: with ``-c`` the working folder comes first on
    # sys.path, so a child started elsewhere imported that folder's colorkeras.
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(settings)], env=env,
                          capture_output=True, text=True, check=False, cwd=source)
    if done.returncode:
        sys.exit(f"the step in {source} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision or checkout folder")
    parser.add_argument("--after", default=".", help="git revision or checkout folder (default .)")
    parser.add_argument("--repeats", type=int, default=3, help="child processes per version")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per child")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (tracing)")
    parser.add_argument("--size", type=int, default=128, help="crop side (default 128)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (default 16)")
    parser.add_argument("--recipe", choices=("default", "encoder"), default="default",
                        help="default: the plain U-Net with L1; encoder: the shipped unet's "
                             "recipe (ImageNet encoder, a*b* classification)")
    parser.add_argument("--freeze", type=int, choices=(0, 1), default=1,
                        help="with --recipe encoder: 1 times a frozen-encoder step, 0 a "
                             "fine-tuning one (default 1)")
    parser.add_argument("--after-policy", default="float32",
                        help="Keras dtype policy of the after side, e.g. mixed_bfloat16 "
                             "(default float32, as the before side)")
    args = parser.parse_args(argv)
    settings = {k: getattr(args, k) for k in ("steps", "warmup", "size", "batch", "recipe",
                                              "freeze")}
    policies = {"before": "float32", "after": args.after_policy}
    with tempfile.TemporaryDirectory() as scratch:
        sources = {"before": checkout(args.before, scratch), "after": checkout(args.after, scratch)}
        try:
            times = {name: [] for name in sources}
            cpu_times = {name: [] for name in sources}
            fingerprints = {name: [] for name in sources}
            for repeat in range(args.repeats):
                for name, source in sources.items():
                    result = time_step(source, {**settings, "policy": policies[name]})
                    times[name].append(result["seconds_per_step"])
                    cpu_times[name].append(result.get("cpu_seconds_per_step", float("nan")))
                    fingerprints[name].append(result.get("fingerprint"))
                    if not str(result.get("code", source)).startswith(str(source)):
                        sys.exit(f"the {name} child ran {result['code']}, not {source}")
                    print(f"{name} #{repeat + 1}: {times[name][-1] * 1000:.0f} ms/step, "
                          f"{cpu_times[name][-1] * 1000:.0f} CPU-ms/step, "
                          f"weights fingerprint {fingerprints[name][-1]}", flush=True)
        finally:
            for name, source in sources.items():
                if str(source).startswith(scratch):
                    subprocess.run(["git", "worktree", "remove", "--force", str(source)],
                                   check=False, capture_output=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.recipe} U-Net training step, batch {args.batch} of {args.size}x{args.size}, "
          f"{args.steps} steps x {args.repeats} alternating processes per version:")
    for name, value in medians.items():
        spread = ", ".join(f"{v * 1000:.0f}" for v in times[name])
        print(f"  {name} ({sources[name]}): median {value * 1000:.0f} ms/step [{spread}]")
    cpu = {name: statistics.median(values) for name, values in cpu_times.items()}
    for name, value in cpu.items():
        spread = ", ".join(f"{v * 1000:.0f}" for v in cpu_times[name])
        print(f"  {name}: median {value * 1000:.0f} CPU-ms/step [{spread}], "
              f"{args.batch / value:.1f} crops per CPU-second")
    print(f"  crops per CPU-second, after / before: {cpu['before'] / cpu['after']:.2f}x "
          f"(range {min(cpu_times['before']) / max(cpu_times['after']):.2f}-"
          f"{max(cpu_times['before']) / min(cpu_times['after']):.2f}x)")
    print(f"  after / before: {medians['after'] / medians['before']:.3f} "
          f"(speed-up {medians['before'] / medians['after']:.2f}x, "
          f"range {min(times['before']) / max(times['after']):.2f}-"
          f"{max(times['before']) / min(times['after']):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
