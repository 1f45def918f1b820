"""The package as a Keras user meets it: a bare ``import colorkeras`` loads its files,
and commands answer ``--help`` before TensorFlow starts (tests/test_cli.py checks
that they print none of its start-up lines)."""

import importlib
import json
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
def test_a_bare_import_loads_every_shipped_model_and_a_trained_one(trained_run):
    paths = [*SHIPPED, trained_run.out / "model.keras"]
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


# One fresh interpreter takes these steps in order and says after each whether
# TensorFlow (or Keras, which imports it) has been imported: a bare import, the
# image module, then ``--help`` of the ``colorkeras`` command and of each
# subcommand module, run as ``python -m`` runs them (`runpy`). Not `data` (its
# package's own import is TensorFlow's) nor `bench` (the checkout's benchmarks
# build their parser from modules that import it).
COMMANDS = ["colorize_command", "train", "tune", "evaluate", "export", "app"]
BEFORE_TENSORFLOW = """
import contextlib, io, json, runpy, sys

report = []

def step(name, action):
    out, code = io.StringIO(), None
    with contextlib.redirect_stdout(out):
        try:
            action()
        except SystemExit as exit_:
            code = exit_.code
    report.append({"step": name, "code": code, "out": out.getvalue(),
                   "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules})

def help_of(module):
    def run():
        sys.argv = [module, "--help"]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    return run

step("import colorkeras", lambda: __import__("colorkeras"))
step("import colorkeras.images", lambda: __import__("colorkeras.images"))
for module in sys.argv[1:]:
    step(module, help_of(module))
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def before_tensorflow():
    """{step: what it printed, its exit status, whether TensorFlow or Keras was imported}."""
    modules = ["colorkeras", *(f"colorkeras.{command}" for command in COMMANDS)]
    result = _python(BEFORE_TENSORFLOW, *modules)
    assert result.returncode == 0, result.stderr[-2000:]
    steps = json.loads(result.stdout.strip().splitlines()[-1])
    assert [s["step"] for s in steps] == ["import colorkeras", "import colorkeras.images",
                                          *modules]
    return {s["step"]: s for s in steps}


def _first_to_import_tensorflow(steps):
    return next((name for name, s in steps.items() if s["tensorflow"] or s["keras"]), None)


@pytest.mark.parametrize("step", ["import colorkeras", "import colorkeras.images"])
def test_import_does_not_import_tensorflow(before_tensorflow, step):
    seen = before_tensorflow[step]
    assert (seen["tensorflow"], seen["keras"]) == (False, False), (
        f"first imported by: {_first_to_import_tensorflow(before_tensorflow)}")


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_returns_before_tensorflow_is_imported(before_tensorflow, command):
    seen = before_tensorflow[f"colorkeras.{command}" if command else "colorkeras"]
    assert seen["code"] == 0 and "usage:" in seen["out"], seen
    assert not seen["tensorflow"], (
        f"first imported by: {_first_to_import_tensorflow(before_tensorflow)}")


def test_python_m_colorkeras_lists_its_subcommands(before_tensorflow):
    from colorkeras.__main__ import COMMANDS as SUBCOMMANDS

    listing = before_tensorflow["colorkeras"]["out"]
    assert all(name in listing for name in SUBCOMMANDS)


def test_the_colorkeras_command_runs_its_subcommands(capsys):
    """In-process (`python -m colorkeras` itself runs in the fresh interpreter above)."""
    from colorkeras.__main__ import main

    def console(*argv):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            main(list(argv))
        out, err = capsys.readouterr()
        return exit_.value.code, out, err

    for name in ("colorize", "train", "tune", "evaluate", "export"):
        code, out, err = console(name, "--help")
        assert code == 0 and "usage:" in out, err
    assert "colorkeras colorize" in console("colorize", "--help")[1]
    code, _, err = console("paint")
    assert code == 2 and err.strip().endswith("(see --help)")
    code, _, err = console("train", "--hparam", "x")  # a usage error from the library's words
    assert code == 2 and err == "error: --hparam takes KEY=VALUE, got 'x'\n"


def test_the_console_script_is_declared():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["colorkeras"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))
