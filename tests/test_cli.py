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


def _command_stderr(env_level=None):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if env_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = env_level
    return subprocess.run([sys.executable, "-m", "colorkeras.train", "--help"], env=env,
                          capture_output=True, text=True, timeout=120).stderr


@pytest.mark.slow
def test_commands_hide_tensorflow_start_up_noise_unless_asked():
    assert "oneDNN" not in _command_stderr() and "cuda" not in _command_stderr().lower()
    # A user who sets the level gets TensorFlow's own output: the check can fail.
    assert "oneDNN" in _command_stderr(env_level="0")
