"""Progress and warnings on the terminal, for commands and the library modules they call.

Kept out of `cli` so that library modules (training, scoring, video, shards)
can show progress without importing the command-line module.
"""

import contextlib
import os
import sys


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
