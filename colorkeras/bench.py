"""``python -m colorkeras.bench``: runs the checkout's ``python -m benchmarks``.

The benchmarks are not installed with the package: they live in
``benchmarks/`` beside ``colorkeras/`` in a source checkout. This launcher
keeps the old command working there, with the same options, and says so in
one line where there is no checkout. Nothing else in the package imports
``benchmarks``.
"""

import pathlib
import sys

import colorkeras
from colorkeras import cli

CHECKOUT = pathlib.Path(colorkeras.__file__).resolve().parent.parent


def main(argv=None):
    if not (CHECKOUT / "benchmarks" / "__init__.py").is_file():
        raise cli.UsageError(
            f"the benchmarks come with a source checkout (benchmarks/ beside colorkeras/), "
            f"not with the installed package, and {CHECKOUT} has none; run "
            f"`python -m benchmarks` in a clone of the repository")
    if sys.path[0] != str(CHECKOUT):  # ahead of the working folder; spawned children see it
        sys.path.insert(0, str(CHECKOUT))
    cli.quiet_tensorflow()  # the benchmarks import it with their options
    from benchmarks import run

    return run.main(argv, prog="python -m colorkeras.bench")


if __name__ == "__main__":
    cli.run(main, sys.argv[1:])
