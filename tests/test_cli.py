"""What every command shares: one-line errors; tracebacks only with --debug."""

import pytest

from colorkeras import cli
from colorkeras.data import DataError
from colorkeras.errors import InputError


@pytest.mark.parametrize("error", [InputError("bad depth"), cli.UsageError("bad flag"),
                                   DataError("no photos"), FileNotFoundError("no such file")])
def test_input_errors_are_one_line_and_exit_2(error, capsys):
    def main(argv):
        raise error

    with pytest.raises(SystemExit) as exit_info:
        cli.run(main, [])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"error: {error}\n"


def test_a_value_error_from_elsewhere_keeps_its_traceback_under_debug(monkeypatch):
    """A failure inside Keras or TensorFlow is a bug: --debug or COLORKERAS_DEBUG=1 shows it."""
    def main(argv):
        raise ValueError("Exception encountered when calling layer 'conv'")

    with pytest.raises(ValueError, match="calling layer"):
        cli.run(main, ["--debug"])
    monkeypatch.setenv(cli.DEBUG_VARIABLE, "1")
    with pytest.raises(ValueError, match="calling layer"):
        cli.run(main, [])


# The lines TensorFlow 2.21 prints as it starts on a machine without a GPU.
START_UP = ("oneDNN", "cuda", "cuInit", "absl::InitializeLog", "cpu_feature_guard",
            "To enable the following instructions")


# Two commands that import TensorFlow, then stop at an input error: the error
# line names this word.
FAILING = {
    "train": (["--hparam", "depth=0", "--quiet", "--out", "run"], "depth"),
    "evaluate": (["--models", "missing.keras", "--out", "o"], "missing.keras"),
}


def _command(tmp_path, command, env_level=None):
    """A real ``python -m colorkeras.COMMAND`` process (the one such test per command)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if env_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = env_level
    return subprocess.run([sys.executable, "-m", f"colorkeras.{command}",
                           *FAILING[command][0]], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("command, level", [("train", None), ("evaluate", "3")])
def test_commands_print_no_tensorflow_start_up_lines(tmp_path, command, level):
    """Unset, or set to 3 as users usually silence TensorFlow (which then printed them)."""
    result = _command(tmp_path, command, level)
    stderr = result.stderr
    assert result.returncode == 2, stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr  # one line
    assert FAILING[command][1] in stderr and "Traceback" not in stderr
    assert not [marker for marker in START_UP if marker.lower() in stderr.lower()], stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_user_who_asks_for_tensorflow_information_gets_it(tmp_path):
    # The check above can fail: these lines are there to be hidden.
    assert "oneDNN" in _command(tmp_path, "train", env_level="0").stderr


def test_library_errors_name_parameters_and_commands_name_flags():
    parser = cli.ArgumentParser()
    parser.add_argument("--color-space")
    parser.add_argument("--out")
    commands = parser.add_subparsers()
    commands.add_parser("pack").add_argument("--max-pixels", "-m")
    message = ("`loss='classification'` predicts bins: use `color_space='lab'`; "
               "another `out`, `max_pixels`, `Colorizer`")
    assert cli.flag_names(InputError(message), parser) == (
        "`loss='classification'` predicts bins: use --color-space lab; "
        "another --out, --max-pixels, `Colorizer`")


def test_cli_run_speaks_in_flags(capsys):
    def main(argv):
        raise InputError("use another `out`")

    parser = cli.ArgumentParser()
    parser.add_argument("--out")
    with pytest.raises(SystemExit):
        cli.run(main, [], lambda: parser)
    assert capsys.readouterr().err == "error: use another --out\n"


def test_no_library_module_imports_the_command_line():
    """Only commands (modules run with ``python -m``) may speak in flags."""
    import pathlib
    import re

    package = pathlib.Path(cli.__file__).parent
    importers = {path.relative_to(package).as_posix() for path in package.rglob("*.py")
                 if re.search(r"^\s*(from colorkeras import .*\bcli\b|import colorkeras\.cli"
                              r"|from colorkeras\.cli )", path.read_text(), re.M)}
    commands = {path.relative_to(package).as_posix() for path in package.rglob("*.py")
                if "__main__" in path.read_text()}
    assert importers and importers <= commands, importers - commands


def test_image_errors_are_input_errors():
    from colorkeras import images

    assert issubclass(images.ImageTooLarge, InputError)
    assert issubclass(images.UnreadableImage, InputError)


# That `colorkeras.images` imports no TensorFlow is checked in test_package's fresh
# interpreter, with the bare import and each command's --help.
