"""Pieces every command line shares: argument groups and error handling.

Commands hold no logic beyond argument handling; what they share lives here so
that ``train``, ``tune`` and ``evaluate`` accept data options the same way and
fail the same way: one line on stderr and a non-zero exit.

The library speaks of its parameters (``InputError("`init_from`: no such
file")``); a command speaks of its flags. `flag_names` turns the one into the
other, so no library module needs to know the command line (none imports this
module).
"""

import argparse
import json
import os
import re
import sys

from colorkeras.errors import InputError, first_line
from colorkeras.terminal import (  # noqa: F401 (the commands use them as cli.*)
    native_output_silenced, progress_verbosity, warn)


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


def count_or_all(text):
    """argparse type for an epoch count that may be zero, or "all"."""
    if text == "all":
        return text
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number or 'all', got {text!r}")
    return non_negative_int(text)


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

    Commands call it once their arguments are parsed, so that ``--help`` and
    usage errors answer before TensorFlow starts. TensorFlow 2.21 prints its
    oneDNN, CUDA and CPU-instruction notices through absl before it reads
    its log level, so neither an unset ``TF_CPP_MIN_LOG_LEVEL`` nor ``3``
    hides them: standard error is pointed at /dev/null for the import. Only
    a user who asks for TensorFlow's informational lines
    (``TF_CPP_MIN_LOG_LEVEL=0``) gets them. Once TensorFlow is imported it
    is too late, and nothing is changed.
    """
    if "tensorflow" in sys.modules:
        return
    if os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3") == "0":
        import tensorflow  # noqa: F401
        return
    with native_output_silenced():
        import tensorflow  # noqa: F401


# A parameter named in backticks, with or without a value: `out`, `split='all'`.
_PARAMETER = re.compile(r"`(\w+)(?:=([^`]*))?`")


def flags_of(parser):
    """``{dest: "--flag"}`` for the options of ``parser`` and of its subcommands."""
    flags = {}
    for action in parser._actions:  # argparse keeps no public list of its options
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                flags.update(flags_of(subparser))
        elif action.option_strings:
            flags.setdefault(action.dest, max(action.option_strings, key=len))
    return flags


def flag_names(message, parser):
    """A library message in the command's words: `color_space='lab'` -> --color-space lab.

    Only names the parser has a flag for change; anything else in backticks
    (a class name, a Python parameter with no flag) is kept.
    """
    flags = flags_of(parser)

    def flag(match):
        name, value = match.groups()
        if name not in flags:
            return match.group(0)
        return flags[name] if value is None else f"{flags[name]} {value.strip(chr(39) + chr(34))}"

    return _PARAMETER.sub(flag, str(message))


def run(main, argv=None, parser=None):
    """Call ``main(argv)``; turn failures into one line on stderr and a non-zero exit.

    The package's own input errors exit 2; anything else, a bug or a failure
    from deep in Keras or TensorFlow, exits 1 with its type and first line.
    ``--debug`` or ``COLORKERAS_DEBUG=1`` shows the traceback instead.
    ``parser``, the command's own (or a function that builds it), lets an
    `InputError` from the library name the command's flags (`flag_names`).
    """
    debug = debugging(argv)
    try:
        code = main(argv)
    except (InputError, FileNotFoundError, FileExistsError) as error:
        if debug:
            raise
        if callable(parser):
            parser = parser()
        message = first_line(error)
        if parser is not None:
            message = flag_names(message, parser)
        print(f"error: {message}", file=sys.stderr)
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
