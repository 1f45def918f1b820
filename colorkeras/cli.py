"""Pieces every command line shares: argument groups and error handling.

Commands hold no logic beyond argument handling; what they share lives here so
that ``train``, ``tune`` and ``evaluate`` accept data options the same way and
fail the same way: one line on stderr and a non-zero exit.
"""

import argparse
import contextlib
import json
import os
import sys

from colorkeras.errors import InputError, first_line


class UsageError(InputError):
    """Bad input from the command line, reported as one line."""


DEBUG_VARIABLE = "COLORKERAS_DEBUG"


def debugging(argv=None):
    """Whether tracebacks are wanted: ``--debug`` on the command line or COLORKERAS_DEBUG=1."""
    return os.environ.get(DEBUG_VARIABLE, "0") not in ("", "0") or "--debug" in (argv or ())


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, not usage plus error.

    Every command gets ``--debug``, read by `run` (tracebacks instead of one
    line), so no command has to handle it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument("--debug", action="store_true", help="on an error, show the "
                          f"full traceback, not one line (or set {DEBUG_VARIABLE}=1)")

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(text, kind, accept, requirement):
    """Parse ``text`` as ``kind`` and require ``accept(value)`` (argparse types)."""
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not accept(value):
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {value}")
    return value


def positive_int(text):
    """argparse type for sizes and counts."""
    return _number(text, int, lambda v: v > 0, "positive")


def non_negative_int(text):
    """argparse type for counts that may be zero."""
    return _number(text, int, lambda v: v >= 0, "zero or more")


def positive_float(text):
    """argparse type for learning rates and weights."""
    return _number(text, float, lambda v: v > 0, "positive")


def unit_interval(text):
    """argparse type for a share in [0, 1]."""
    return _number(text, float, lambda v: 0 <= v <= 1, "between 0 and 1")


def add_data_args(parser, image_size=256, crop_size=128, batch_size=16):
    """Options that pick the photos and how they are cut."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        default="sample",
        help="'sample' (the embedded photos), a folder of images, tfds:NAME "
        "(e.g. tfds:tf_flowers; needs the network), or tfrecord:DIR (shards from "
        "python -m colorkeras.data pack). Default: sample.",
    )
    group.add_argument(
        "--image-size", type=positive_int, default=image_size,
        help=f"shorter side photos are resized to (default {image_size})",
    )
    group.add_argument(
        "--crop-size", type=positive_int, default=crop_size,
        help=f"random training crop (default {crop_size})",
    )
    group.add_argument(
        "--batch-size", type=positive_int, default=batch_size,
        help=f"images per batch (default {batch_size})",
    )
    return group


def check_out_folder_path(out):
    """Refuse an ``--out`` that names a file, in words (not a bare ``[Errno 17]``)."""
    if out is not None and os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file, not a folder; choose a folder")


def parse_hparams(pairs):
    """``["depth=3", "activation=gelu"]`` -> ``{"depth": 3, "activation": "gelu"}``.

    Values are read as JSON when they parse (numbers, booleans, lists) and
    kept as strings otherwise.
    """
    hparams = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--hparam takes KEY=VALUE, got {pair!r}")
        try:
            hparams[key] = json.loads(value)
        except json.JSONDecodeError:
            hparams[key] = value
    return hparams


def quiet_tensorflow():
    """Import TensorFlow without its C++ start-up chatter, so a command shows only its own.

    TensorFlow 2.21 prints its oneDNN and CUDA notices through absl before
    its log level is read, so the level alone does not hide them: standard
    error is pointed at /dev/null for the import. A user who set
    ``TF_CPP_MIN_LOG_LEVEL`` gets TensorFlow's output as they asked; once
    TensorFlow is imported it is too late, and nothing is changed.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with native_output_silenced():
        import tensorflow  # noqa: F401


@contextlib.contextmanager
def native_output_silenced(fds=(2,)):
    """Point file descriptors (standard error by default) at /dev/null for a while.

    For chatter that C++ code prints straight to the descriptor, past
    Python's ``sys.stderr``: TensorFlow's start-up notices, and the LiteRT
    calibrator's "fully_quantize: 0, inference_type: 6, ..." lines.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    try:
        with open(os.devnull, "w") as devnull:
            for fd in fds:
                os.dup2(devnull.fileno(), fd)
            yield
    finally:
        for fd, copy in zip(fds, saved):
            os.dup2(copy, fd)
            os.close(copy)


def progress_verbosity(quiet=False):
    """Keras's ``verbose`` for a progress display: a live bar on a terminal, else lines.

    Keras's bar (verbose 1) redraws itself with ANSI colours and carriage
    returns whatever stdout is; sent to a file, a grid search's log grew to
    129 KB of escapes. Redirected output gets one plain line per epoch or
    pass (verbose 2).
    """
    return 2 if quiet or not sys.stdout.isatty() else 1


def warn(message):
    """One warning line on stderr, on a line of its own even under a progress bar."""
    newline = "\n" if sys.stdout.isatty() else ""
    print(f"{newline}warning: {message}", file=sys.stderr, flush=True)


def run(main, argv=None):
    """Call ``main(argv)``; turn failures into one line on stderr and a non-zero exit.

    The package's own input errors exit 2; anything else, a bug or a failure
    from deep in Keras or TensorFlow, exits 1 with its type and first line.
    ``--debug`` or ``COLORKERAS_DEBUG=1`` shows the traceback instead.
    """
    quiet_tensorflow()
    debug = debugging(argv)
    try:
        code = main(argv)
    except (InputError, FileNotFoundError, FileExistsError) as error:
        if debug:
            raise
        print(f"error: {first_line(error)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        if debug:
            raise
        newline = "\n" if sys.stdout.isatty() else ""  # off the progress bar's line
        print(f"{newline}interrupted; run the same command again to resume", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - one line for the user; --debug for the rest
        if debug:
            raise
        print(f"error: {type(error).__name__}: {first_line(error)} (--debug or "
              f"{DEBUG_VARIABLE}=1 shows the traceback)", file=sys.stderr)
        sys.exit(1)
    sys.exit(code or 0)
