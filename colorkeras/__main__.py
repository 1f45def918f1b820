"""The ``colorkeras`` command: ``colorkeras COMMAND [options]``.

    colorkeras colorize old_photos/ --out colour/
    colorkeras train --model unet --epochs 30 --out runs/unet
    python -m colorkeras colorize scan.tif --out colour/   # the same, without the script

Each subcommand is a module that also runs alone (``python -m colorkeras.train``,
``python -m colorkeras.tune``, ...), except ``colorize``: ``colorkeras.colorize``
is the function, so its command lives in `colorkeras.colorize_command`. Only
the chosen subcommand's module is imported, and it parses its arguments before
TensorFlow starts, so ``--help`` answers at once.
"""

import importlib
import sys

import colorkeras
from colorkeras import cli

# name -> (module with main and, for most, build_parser; one line of help)
COMMANDS = {
    "colorize": ("colorkeras.colorize_command", "colorize photos, folders and videos"),
    "app": ("colorkeras.app", "a local web page to colorize photos"),
    "train": ("colorkeras.train", "train a colorizer"),
    "tune": ("colorkeras.tune", "grid-search hyperparameters with keras-tuner"),
    "evaluate": ("colorkeras.evaluate", "compare colorizers on the same photos"),
    "export": ("colorkeras.export", "export a SavedModel for TF Serving, ONNX or LiteRT"),
    "data": ("colorkeras.data.__main__", "pack photos as TFRecord shards"),
    "bench": ("colorkeras.bench", "run the checkout's benchmarks"),
}


def usage():
    width = max(map(len, COMMANDS))
    lines = [f"usage: colorkeras COMMAND [options]   (colorkeras COMMAND --help for its own)",
             "", "Automatic image colorization with Keras. Commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run ``colorkeras COMMAND ...``; exits with the command's status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(usage())
        sys.exit(0 if argv else 2)
    if argv[0] == "--version":
        print(f"colorkeras {colorkeras.__version__}")
        sys.exit(0)
    if argv[0] not in COMMANDS:
        print(f"colorkeras: error: unknown command {argv[0]!r}; choose from "
              f"{', '.join(COMMANDS)} (see --help)", file=sys.stderr)
        sys.exit(2)
    command = importlib.import_module(COMMANDS[argv[0]][0])
    cli.run(command.main, argv[1:], getattr(command, "build_parser", None))


if __name__ == "__main__":
    main()
