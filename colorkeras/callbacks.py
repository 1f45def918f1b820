"""Callbacks of a training run: saving, logging, clocks, batch norm and the encoder."""

import csv
import math
import os

import keras

from colorkeras import atomic
from colorkeras.colorizer import colorizer_in_training
from colorkeras.models import efficientnet_lite
from colorkeras.optimizers import encoder_scale_variable
from colorkeras.training_config import encoder_frozen
from colorkeras.errors import InputError


class SaveBestColorizer(keras.callbacks.Callback):
    """Save the colorizer being trained (`Colorizer.as_colorizer`) when ``monitor`` improves.

    What is saved is what users load: the network with its colour space,
    without optimizer state (a third of the size) or a GAN's discriminator,
    which Keras's ModelCheckpoint would keep. ``initial_best`` lets
    a resumed run keep the best value of its earlier epochs, so a worse epoch
    after a restart does not replace a better saved model. With
    ``monitor=None`` it saves after every epoch (the latest network).
    ``minimums`` (log name -> value) makes only epochs that reach every
    minimum eligible, e.g. ``{"val_colorfulness_ratio": 0.6}`` picks the best
    epoch among those colourful enough.
    """

    def __init__(self, path, monitor="val_psnr", mode="max", initial_best=None,
                 minimums=None):
        super().__init__()
        if mode not in ("max", "min"):
            raise InputError(f"`mode` must be 'max' or 'min'. Received: mode={mode!r}")
        self.path = path
        self.monitor = monitor
        self.mode = mode
        self.best = initial_best
        self.minimums = dict(minimums or {})

    def _improved(self, value):
        if value is None or math.isnan(value):
            return False
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor is not None:
            value = logs.get(self.monitor)
            value = None if value is None else float(value)
            if not (self._improved(value) and reaches_minimums(logs, self.minimums)):
                return
            self.best = value
        with atomic.temporary_path(self.path) as tmp:
            colorizer_in_training(self.model).as_colorizer().save(tmp)


def reaches_minimums(logs, minimums):
    """Whether an epoch's logs reach every ``name -> minimum`` (a missing log does not)."""
    for name, minimum in minimums.items():
        value = logs.get(name)
        if value is None or value == "" or not float(value) >= minimum:
            return False
    return True


class HistoryLogger(keras.callbacks.Callback):
    """Append each epoch's logs to a CSV file, which may gain columns.

    Keras' CSVLogger appends rows under the header it finds, so a resumed run
    that logs a new figure would shift every column after it. Here a new
    column rewrites the file once under the wider header, with the earlier
    rows left blank in it.
    """

    def __init__(self, path):
        super().__init__()
        self.path = path

    def _read(self):
        if not os.path.exists(self.path):
            return [], []
        with open(self.path, newline="") as f:
            reader = csv.DictReader(f)
            return list(reader.fieldnames or []), list(reader)

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        header, rows = self._read()
        new = sorted(k for k in row if k not in header)
        if not new:
            with open(self.path, "a", newline="") as f:
                csv.DictWriter(f, header).writerow(row)
            return
        header = header + new if header else ["epoch", *sorted(set(row) - {"epoch"})]
        with atomic.replacing(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, header)
            writer.writeheader()
            writer.writerows([*rows, row])


class TrainingClock(keras.callbacks.Callback):
    """Log cumulative training time per epoch and stop past a time budget.

    ``elapsed_seconds`` (wall) and ``cpu_seconds`` (this process's CPU time,
    every thread) go into the epoch logs, so into ``history.csv``, counted
    across interrupted and resumed sessions from ``offset`` and
    ``cpu_offset``. CPU time tells how much compute a run really had when it
    shared the machine. With ``limit_seconds``, training stops after the
    first epoch that ends past it (wall time), which lets runs be compared at
    equal wall time; ``cpu_limit_seconds`` does the same on CPU time, which
    gives each run the same compute however many runs share the cores.
    ``validation_cpu_seconds`` is the share of ``cpu_seconds`` spent
    validating, so that time-to-quality curves can count training alone.
    """

    def __init__(self, offset=0.0, limit_seconds=None, cpu_offset=0.0, cpu_limit_seconds=None,
                 validation_cpu_offset=0.0):
        super().__init__()
        self.offset = float(offset)
        self.cpu_offset = float(cpu_offset)
        self.validation_cpu = float(validation_cpu_offset)
        self._validation_started = None
        self.limit_seconds = limit_seconds
        self.cpu_limit_seconds = cpu_limit_seconds
        self._started = None
        self._cpu_started = None

    def on_train_begin(self, logs=None):
        import time

        self._started = time.monotonic()
        self._cpu_started = time.process_time()

    def on_test_begin(self, logs=None):
        import time

        self._validation_started = time.process_time()

    def on_test_end(self, logs=None):
        import time

        if self._validation_started is not None:  # fit's validation, not a bare evaluate
            self.validation_cpu += time.process_time() - self._validation_started
            self._validation_started = None

    def on_epoch_end(self, epoch, logs=None):
        import time

        elapsed = self.offset + time.monotonic() - self._started
        cpu = self.cpu_offset + time.process_time() - self._cpu_started
        if logs is not None:
            logs["elapsed_seconds"] = round(elapsed, 1)
            logs["cpu_seconds"] = round(cpu, 1)
            logs["validation_cpu_seconds"] = round(self.validation_cpu, 1)
        if self._past(elapsed, cpu):
            self.model.stop_training = True

    def _past(self, elapsed, cpu):
        return (self.limit_seconds is not None and elapsed >= self.limit_seconds) or (
            self.cpu_limit_seconds is not None and cpu >= self.cpu_limit_seconds)


class PreciseBatchNorm(keras.callbacks.Callback):
    """Recalibrate the network's batch norm statistics before each validation.

    So validation scores, and the networks saved from them, show the weights
    as they are rather than moving averages of where they were (see
    ``recalibrate_batch_norm``). Costs ``batches`` forward passes per epoch.
    """

    def __init__(self, inputs, batches=50):
        super().__init__()
        self.inputs = inputs
        self.batches = batches

    def on_test_begin(self, logs=None):
        from colorkeras.models.batch_norm import recalibrate_batch_norm

        recalibrate_batch_norm(colorizer_in_training(self.model).network, self.inputs,
                               self.batches)


class EncoderSchedule(keras.callbacks.Callback):
    """Freeze an ImageNet encoder for the first epochs, then fine-tune it gently.

    A fresh decoder sends large, random gradients back; reaching the encoder
    they would wreck the ImageNet features before the decoder has learned to
    use them. So the encoder is frozen for ``freeze_epochs`` epochs, then
    learns at ``scale`` times the rate (`optimizers.EncoderAwareAdam`; it
    follows a reduction on a plateau). Set per epoch from the epoch index, so
    a resumed run lands in the right phase. ``freeze_epochs="all"`` (the
    training default) never fine-tunes it: on the 2-core CPU that recipe
    reached the fine-tuning recipe's `select` ΔE2000 in a fraction of the
    CPU time (docs/training-throughput.md).

    A frozen encoder is made non-trainable, not only given a zero rate, so
    that no gradient is computed for its weights: the backward pass stops at
    the decoder, which makes a frozen step about 1.7x faster on a CPU
    (``benchmarks/step_profile.py``) with the same updates. The training
    function is rebuilt when the phase changes; the optimizer was built for
    every weight first (`Colorizer.build_state`, or here), so its state for
    the encoder is kept across the change.
    """

    def __init__(self, freeze_epochs, scale):
        super().__init__()
        self.freeze_epochs = freeze_epochs
        self.scale = float(scale)

    def on_epoch_begin(self, epoch, logs=None):
        factor = encoder_scale_variable(self.model.optimizer)
        if factor is None:
            return
        frozen = encoder_frozen(self.freeze_epochs, epoch)
        factor.assign(0.0 if frozen else self.scale)
        network = colorizer_in_training(self.model).network
        if not self.model.optimizer.built:  # its state must cover the encoder too
            self.model.optimizer.build(network.trainable_variables)
        encoders = efficientnet_lite.encoders_of(network)
        if any(encoder.trainable == frozen for encoder in encoders):
            for encoder in encoders:
                encoder.trainable = not frozen
            self.model.make_train_function(force=True)
