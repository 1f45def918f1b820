"""The package as a Keras user meets it: a bare ``import colorkeras`` loads its files,
and commands answer ``--help`` before TensorFlow starts (tests/test_cli.py checks
that they print none of its start-up lines)."""

import importlib
import pathlib
import pkgutil
import subprocess
import sys

import pytest

import colorkeras
from colorkeras import registration

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "exported_models").glob("*/*.keras"))


def _python(code, *args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)


LOAD_ALL = """
import sys
import colorkeras
import keras
for path in sys.argv[1:]:
    model = keras.saving.load_model(path, safe_mode=True)
    print(path, type(model).__name__)
"""


@pytest.mark.slow
def test_a_bare_import_loads_every_shipped_model_and_a_trained_one(tmp_path):
    from colorkeras import train

    run = tmp_path / "run"
    train.main(["--model", "unet", "--hparam", "depth=1", "--hparam", "base_filters=4",
                "--epochs", "1", "--image-size", "32", "--crop-size", "16",
                "--batch-size", "2", "--steps-per-epoch", "1", "--quiet", "--out", str(run)])
    paths = [*SHIPPED, run / "model.keras"]
    assert len(SHIPPED) >= 6
    result = _python(LOAD_ALL, *map(str, paths))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("Colorizer") == len(paths)


def test_keras_imported_first_also_finds_the_classes():
    result = _python("import keras, colorkeras\n"
                     "print(keras.saving.get_registered_object('colorkeras>Colorizer'))")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Colorizer" in result.stdout and "None" not in result.stdout


def test_the_stand_in_table_names_every_registered_class():
    """A class registered but missing from `REGISTERED` would not load after a bare import.

    (Classes that tests define and register, outside the package, are left out.)
    """
    import keras

    for module in pkgutil.walk_packages(colorkeras.__path__, "colorkeras."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    registered = {name.split(">", 1)[1]: cls.__module__
                  for name, cls in keras.saving.get_custom_objects().items()
                  if name.startswith("colorkeras>") and cls.__module__.startswith("colorkeras.")}
    assert registered == registration.REGISTERED


def test_import_colorkeras_does_not_import_tensorflow():
    result = _python("import sys, colorkeras; print('tensorflow' in sys.modules, "
                     "'keras' in sys.modules)")
    assert result.stdout.split() == ["False", "False"], result.stderr[-2000:]


# Not `data` (its package's own import is TensorFlow's) nor `bench` (the checkout's
# benchmarks build their parser from modules that import it).
COMMANDS = ["colorize_command", "train", "tune", "evaluate", "export", "app"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_returns_before_tensorflow_is_imported(command):
    result = _python("import runpy, sys\n"
                     f"sys.argv = ['x', '--help']\n"
                     "try:\n"
                     f"    runpy.run_module('colorkeras.{command}', run_name='__main__')\n"
                     "except SystemExit:\n"
                     "    pass\n"
                     "print('TF', 'tensorflow' in sys.modules)")
    assert "usage:" in result.stdout, result.stderr[-2000:]
    assert result.stdout.strip().endswith("TF False")


def _console(*args):
    return subprocess.run([sys.executable, "-m", "colorkeras", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_the_colorkeras_command_lists_and_runs_its_subcommands():
    from colorkeras.__main__ import COMMANDS

    listing = _console("--help")
    assert listing.returncode == 0
    assert all(name in listing.stdout for name in COMMANDS)
    for name in ("colorize", "train", "tune", "evaluate", "export"):
        help_text = _console(name, "--help")
        assert help_text.returncode == 0 and "usage:" in help_text.stdout, help_text.stderr
    assert "colorkeras colorize" in _console("colorize", "--help").stdout
    unknown = _console("paint")
    assert unknown.returncode == 2 and unknown.stderr.strip().endswith("(see --help)")
    error = _console("train", "--hparam", "x")  # a usage error from the library's words
    assert error.returncode == 2 and error.stderr == "error: --hparam takes KEY=VALUE, got 'x'\n"


def test_the_console_script_is_declared():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["colorkeras"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))
