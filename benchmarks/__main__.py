"""``python -m benchmarks`` (from the repository root): see `benchmarks.run`."""

import sys

from benchmarks.run import main
from colorkeras import cli

if __name__ == "__main__":
    cli.run(main, sys.argv[1:])
