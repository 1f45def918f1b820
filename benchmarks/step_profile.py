"""Where one training step of the shipped encoder U-Net's recipe spends its time.

    python benchmarks/step_profile.py                  # the recipe: batch 16 of 128x128
    python benchmarks/step_profile.py --steps 10 --json out.json

Each part is timed as its own compiled sub-graph on one fixed batch, after a
warm-up, so the figures add up to about one step: the data pipeline, the
encoder forward, the whole network forward (the decoder and head are the
difference), the loss, the backward pass with the encoder trainable and with
it frozen, and the full ``fit`` step of the colorizer in the variants that
`training` can choose between. Every figure is the median of ``--repeats``
rounds of ``--steps`` calls.
"""

import argparse
import json
import statistics
import time


def median_ms(function, steps, repeats):
    """Medians over ``repeats`` rounds of ``steps`` calls: (wall ms, CPU ms) per call.

    CPU time (every thread of this process) is the figure to compare on a
    shared machine: other jobs stretch the wall time, not the work done.
    """
    function()  # trace
    function()
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(steps):
            out = function()
        _ = [getattr(v, "numpy", lambda: v)() for v in
             (out if isinstance(out, (list, tuple)) else [out])]
        walls.append((time.perf_counter() - start) / steps * 1000)
        cpus.append((time.process_time() - cpu_start) / steps * 1000)
    return statistics.median(walls), statistics.median(cpus)


def recipe_colorizer(encoder_trainable=True, rgb_metrics=True, output_stride=2,
                     encoder_scale=0.1, policy="float32"):
    """The shipped ``unet`` recipe's colorizer, compiled as ``train`` compiles it."""
    import keras

    from colorkeras.models.network import global_dtype_policy

    from colorkeras import ab_classes
    from colorkeras.colorizer import Colorizer
    from colorkeras.models import build_model, efficientnet_lite
    from colorkeras.optimizers import EncoderAwareAdam

    keras.utils.set_random_seed(0)
    with global_dtype_policy(policy):
        network = build_model("unet", color_space="lab", backbone="efficientnet_lite0",
                              base_filters=16, output_stride=output_stride,
                              head="classification", encoder_weights="none")
    if not encoder_trainable:
        for encoder in efficientnet_lite.encoders_of(network):
            encoder.trainable = False
    colorizer = Colorizer(network, rgb_metrics_in_training=rgb_metrics)
    colorizer.compile(optimizer=EncoderAwareAdam(encoder_scale, learning_rate=1e-3),
                      loss=ab_classes.ABClassificationLoss(), encoder_scale=encoder_scale)
    return colorizer


def profile(batch, size, steps, repeats, output_stride=2, policy="float32"):
    """The breakdown, as a list of (part, wall ms, CPU ms).

    ``output_stride`` and ``policy`` set the network whose parts are timed
    (2 and float32: the recipe before the throughput work; 4 and
    mixed_bfloat16: today's default); the fit-step variants are fixed.
    """
    import numpy as np
    import tensorflow as tf

    from colorkeras import ab_classes
    from colorkeras.data import make_dataset
    from colorkeras.models import efficientnet_lite

    rows = []
    pipeline = make_dataset("sample", split="train", color_space="lab", image_size=256,
                            crop_size=size, batch_size=batch, seed=0)
    iterator = iter(pipeline.dataset if hasattr(pipeline, "dataset") else pipeline)
    rows.append(("data: one batch from the pipeline (sample photos)",
                 *median_ms(lambda: next(iterator), steps, repeats)))

    rng = np.random.default_rng(0)
    gray = tf.constant(rng.random((batch, size, size, 1), dtype=np.float32))
    target = tf.constant(rng.uniform(-0.3, 0.3, (batch, size, size, 2)).astype(np.float32))
    colorizer = recipe_colorizer(output_stride=output_stride, policy=policy)
    network = colorizer.network
    encoder = efficientnet_lite.encoders_of(network)[0]
    loss = ab_classes.ABClassificationLoss()
    rgb = tf.cast(tf.concat([gray * 2 - 1] * 3, axis=-1), encoder.compute_dtype)

    rows.append(("encoder forward", *median_ms(
        tf.function(lambda: encoder(rgb, training=True)), steps, repeats)))
    rows.append(("network forward (encoder + decoder + head)", *median_ms(
        tf.function(lambda: colorizer(gray, training=True)["logits"]), steps, repeats)))
    logits = colorizer(gray, training=True)["logits"]
    rows.append(("loss (306-bin soft-encoded cross-entropy)", *median_ms(
        tf.function(lambda: tf.reduce_mean(loss(target, logits))), steps, repeats)))

    def gradients(variables):
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                value = tf.reduce_mean(loss(target, colorizer(gray, training=True)["logits"]))
            return tape.gradient(value, variables)
        return step

    encoder_ids = {id(v) for v in encoder.trainable_variables}
    decoder_variables = [v for v in network.trainable_variables if id(v) not in encoder_ids]
    rows.append(("forward + loss + backward, every weight", *median_ms(
        gradients(network.trainable_variables), steps, repeats)))
    rows.append(("forward + loss + backward, decoder weights only", *median_ms(
        gradients(decoder_variables), steps, repeats)))

    data = tf.data.Dataset.from_tensors((gray, target)).repeat()

    def fit_step(model):
        model.fit(data, epochs=1, steps_per_epoch=3, verbose=0)
        return lambda: model.train_on_batch(gray, target)

    variants = [
        ("fit step: encoder trained at 0.1x (the old recipe's fine-tune)", {}),
        ("fit step: encoder 'frozen' by a zero rate (0.2's frozen phase)", {"encoder_scale": 0.0}),
        ("fit step: encoder non-trainable", {"encoder_trainable": False}),
        ("fit step: encoder non-trainable, no RGB metrics in training",
         {"encoder_trainable": False, "rgb_metrics": False}),
        ("fit step: encoder trained at 0.1x, no RGB metrics in training",
         {"rgb_metrics": False}),
        ("fit step: encoder non-trainable, no RGB metrics, logits at stride 4",
         {"encoder_trainable": False, "rgb_metrics": False, "output_stride": 4}),
        ("fit step: encoder non-trainable, mixed bfloat16",
         {"encoder_trainable": False, "policy": "mixed_bfloat16"}),
        ("fit step: encoder trained at 0.1x, mixed bfloat16", {"policy": "mixed_bfloat16"}),
        ("fit step: today's default: non-trainable, no RGB metrics, stride 4, bfloat16",
         {"encoder_trainable": False, "rgb_metrics": False, "output_stride": 4,
          "policy": "mixed_bfloat16"}),
    ]
    for name, kwargs in variants:
        rows.append((name, *median_ms(fit_step(recipe_colorizer(**kwargs)), steps, repeats)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="crops per step (default 16)")
    parser.add_argument("--size", type=int, default=128, help="crop side (default 128)")
    parser.add_argument("--steps", type=int, default=8, help="calls per timed round")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per part")
    parser.add_argument("--output-stride", type=int, default=2, choices=(2, 4),
                        help="logits' stride of the network whose parts are timed (default 2)")
    parser.add_argument("--policy", default="float32", choices=("float32", "mixed_bfloat16"),
                        help="its dtype policy (default float32)")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    from colorkeras import cli

    cli.quiet_tensorflow()
    rows = profile(args.batch, args.size, args.steps, args.repeats, args.output_stride,
                   args.policy)
    print(f"batch {args.batch} of {args.size}x{args.size}, median of {args.repeats} rounds "
          f"of {args.steps} calls; parts at output stride {args.output_stride}, {args.policy}")
    print("  wall ms    CPU ms  part")
    for name, wall, cpu in rows:
        print(f"{wall:9.0f} {cpu:9.0f}  {name}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(part=r[0], wall_ms=r[1], cpu_ms=r[2]) for r in rows], f, indent=2)


if __name__ == "__main__":
    main()
