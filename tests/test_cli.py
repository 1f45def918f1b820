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


def _command(*argv, env_level=None):
    """``python -m colorkeras.train ARGV`` in a fresh process: its (exit status, stderr)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if env_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = env_level
    result = subprocess.run([sys.executable, "-m", "colorkeras.train", *argv], env=env,
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stderr


@pytest.mark.slow
def test_a_real_command_gives_one_line_without_tensorflow_start_up_noise():
    """The one `python -m` run of a bad argument: the others run in-process (test_train)."""
    code, stderr = _command("--model", "vgg")
    assert code == 2
    assert stderr.strip().splitlines() == [stderr.strip()]  # no TensorFlow lines before it
    assert "invalid choice: 'vgg'" in stderr and "Traceback" not in stderr
    assert "oneDNN" not in stderr and "cuda" not in stderr.lower()
    # A user who sets the level gets TensorFlow's own output: the check can fail.
    code, stderr = _command("--help", env_level="0")
    assert code == 0 and "oneDNN" in stderr
