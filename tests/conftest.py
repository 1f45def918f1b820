"""Shared fixtures and helpers, so that each costly thing is built once per session.

- ``tiny_networks``: tiny untrained networks saved as ``.keras`` files, built
  once and shared by the inference, export, video and evaluation tests.
- ``trained_run``: one tiny training run; tests that resume or refuse a run
  copy it (`TrainedRun.copy`, ``shutil.copytree``) rather than train again.
- ``run_command``: a command run in-process as ``python -m`` would run it,
  exit status and printed text returned; TensorFlow starts once, not per case.
- ``imagenet_judge``: the ImageNet classifier (a 17 MB weight file converted
  at load), loaded once.
- `read_csv`, `free_port`, `wait_for_file`: plain helpers.
- ``browser``: a headless chromium for the page tests. `.ci/run` installs
  Debian's chromium and chromium-driver; without them the browser tests are
  skipped with the reason, never silently passed.

How the suite runs (the README's ``python -m pytest -q -n auto``):

- TensorFlow uses one thread per op pool, in this process and in every
  process a test starts (``TF_NUM_INTRAOP_THREADS``/``INTEROP``, inherited):
  the networks are tiny, so more threads only spin, and under ``-n`` each
  worker has a core. A cluster of three processes with TensorFlow's default
  pools beside the other worker's tests made both several times slower.
- Nor does it run Grappler, TensorFlow's graph optimizer, on the graphs traced
  here: on networks of a few thousand weights, optimizing a graph costs more
  than it saves (about a tenth of the suite's CPU time). The semantics are the
  same; Grappler's own rewrites are checked where they run for users, by the
  tests that start commands as processes, which keep it on.
- With pytest-xdist's ``-n``, each test file runs whole on one worker (its
  module fixtures are built once), the files with the longest tests first.
"""

import csv
import dataclasses
import os
import shutil
import sys
import socket
import time

import pytest

os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager's usage pings: offline
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

# Training arguments that make a run take seconds: what every training test uses.
TINY_TRAIN = ["--image-size", "32", "--crop-size", "16", "--batch-size", "4",
              "--steps-per-epoch", "2", "--quiet"]
# The shared trained run: a 1-level Lab U-Net with 4 filters, one epoch.
TRAINED_RUN = ["--model", "unet", "--hparam", "depth=1", "--hparam", "base_filters=4",
               "--color-space", "lab", *TINY_TRAIN]
# Hyperparameters of the tiny networks, per architecture: seconds to build and run.
TINY_HPARAMS = {
    "unet": dict(depth=2, base_filters=4),
    "resnet": dict(base_filters=8, stages=2, blocks_per_stage=1),
    "cae": dict(base_filters=4),
    "dcnn": dict(depth=2, filters=4),
}


def read_csv(path):
    """The rows of a CSV file with a header, as dictionaries of strings."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_file(path, timeout=10.0):
    """Chromium writes a temporary file first and renames it when done."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.is_file():
            return path
        time.sleep(0.1)
    return None


# --- how the suite runs ---------------------------------------------------------------

# The files whose tests take longest (CPU seconds, measured per test), started first
# so that under -n no worker is left with one of them at the end. Others follow
# in their collection order.
LONGEST_FIRST = (
    "test_multi_worker.py",  # ~60: a 2-worker cluster, killed and restarted
    "test_architectures.py",  # ~100: every architecture through the harness
    "test_pix2pix.py",
    "test_efficientnet_lite.py",
    "test_train.py",
    "test_tune.py",  # a killed search; a chief and 2 workers
    "test_hints.py",
    "test_portable.py",
    "test_evaluate.py",
    "test_package.py",
    "test_bench.py",
    "test_hostile.py",
    "test_cli.py",
    "test_distribution.py",
    "test_export.py",
)


def pytest_configure(config):
    from colorkeras.terminal import native_output_silenced

    for pool in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(pool, "1")  # for the processes tests start
    with native_output_silenced():  # its start-up notices, as the commands hide them
        import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: a file keeps its own order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Whole files to a worker, in the order above (not xdist's most-tests-first)."""
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False
    return LoadFileScheduling(config, log)


# --- networks and runs ------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_networks(tmp_path_factory):
    """``saved(name, color_space)`` -> path of a saved tiny untrained network.

    Each (name, space) is built and saved once per session, seeded, so every
    test that reads it sees the same weights. Tests must not write to it.
    """
    import keras

    from colorkeras.models import build_model

    folder = tmp_path_factory.mktemp("tiny-networks")
    saved = {}

    def get(name="unet", color_space="lab"):
        if (name, color_space) not in saved:
            keras.utils.set_random_seed(0)
            path = folder / f"{name}-{color_space}.keras"
            build_model(name, color_space=color_space, **TINY_HPARAMS[name]).save(path)
            saved[name, color_space] = path
        return saved[name, color_space]

    return get


@pytest.fixture(scope="session")
def tiny_network(tiny_networks):
    """The path of the tiny Lab U-Net (depth 2, 4 filters), saved untrained."""
    return tiny_networks("unet", "lab")


@dataclasses.dataclass(frozen=True)
class TrainedRun:
    """A finished one-epoch run of ``python -m colorkeras.train TRAINED_RUN``."""

    out: object  # pathlib.Path of the run folder (read-only: copy it to change it)
    args: tuple  # the arguments it was trained with, --out and --epochs aside

    def copy(self, folder):
        """A copy of the run in ``folder``: ``(its path, its arguments with --out)``."""
        target = folder / "run"
        shutil.copytree(self.out, target)
        return target, [*self.args, "--out", str(target)]


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """One tiny training run shared by the tests that resume or reuse a run."""
    from colorkeras import train

    out = tmp_path_factory.mktemp("trained") / "run"
    train.main(["--epochs", "1", *TRAINED_RUN, "--out", str(out)])
    return TrainedRun(out, tuple(TRAINED_RUN))


@pytest.fixture(scope="session")
def imagenet_judge():
    """`semantic.ImageNetJudge`: the converted EfficientNet-Lite0 ImageNet classifier."""
    from colorkeras import semantic

    return semantic.ImageNetJudge()


# --- commands ----------------------------------------------------------------------------


@dataclasses.dataclass
class CommandResult:
    code: int
    out: str
    err: str

    def __iter__(self):  # code, out, err = run_command(...)
        return iter((self.code, self.out, self.err))


@pytest.fixture
def run_command(capsys):
    """``run_command(main, *argv)``: a command's ``main`` run through `cli.run`, in-process.

    As ``python -m colorkeras.<command> ARGV`` runs it (one-line errors, the
    exit status), without starting TensorFlow again. Returns a
    `CommandResult` with what it printed.
    """
    from colorkeras import cli

    def run(main, *argv):
        capsys.readouterr()  # what came before is not this command's
        # As the command's ``__main__`` passes it, so that errors name its flags.
        parser = getattr(sys.modules[main.__module__], "build_parser", None)
        with pytest.raises(SystemExit) as info:
            cli.run(main, [str(a) for a in argv], parser)
        out, err = capsys.readouterr()
        return CommandResult(info.value.code, out, err)

    return run


# --- the browser -------------------------------------------------------------------------


@pytest.fixture
def browser(tmp_path):
    """A headless chromium whose downloads land in ``browser.downloads``."""
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')"
    )
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are not installed "
                    "(apt-get install chromium chromium-driver; .ci/run does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()
