"""Multi-worker training: 2 worker processes on 127.0.0.1, as a cluster would run it.

Each worker is ``python -m colorkeras.train --distribution multi-worker`` with
its own ``TF_CONFIG``. One Pix2Pix cluster, killed mid-way and restarted,
checks that both exit 0, only the chief writes the run folder, the weights
match one process at the same global batch and seed, and the run resumes when
every worker is restarted.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from conftest import read_csv

import colorkeras.colorizer  # noqa: F401 - registers the Colorizer and networks the runs save
from colorkeras import distribution, train

TIMEOUT = 900  # seconds; about 30 on a quiet 2-core machine, far more under load
# Adam's first steps are about its learning rate whatever the gradient, so a
# weight whose gradient is near zero amplifies float noise: 1e-4 is about 5%
# of one step at the default 2e-3 (measured: 3e-5 for the U-Net).
WEIGHT_TOLERANCE = 1e-4
COMMON = ["--image-size", "64", "--crop-size", "32", "--batch-size", "4",
          "--steps-per-epoch", "2", "--seed", "0", "--quiet"]
PIX2PIX = ["--model", "pix2pix", "--color-space", "lab", "--hparam", "depth=2",
           "--hparam", "base_filters=4", "--d-hparam", "num_layers=1",
           "--d-hparam", "base_filters=4"]


def environment(tmp_path, cluster=None, index=None):
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}  # one thread a pool: conftest
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env.pop("TF_CONFIG", None)
    if cluster is not None:
        env["TF_CONFIG"] = distribution.tf_config(cluster, index)
    return env


def start_workers(args, out, tmp_path):
    cluster = distribution.local_cluster(2)
    command = [sys.executable, "-m", "colorkeras.train", "--distribution", "multi-worker",
               *args, "--out", str(out)]
    return [subprocess.Popen(command, env=environment(tmp_path, cluster, index),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for index in range(2)]


def finish(workers):
    outputs = []
    for worker in workers:
        try:
            output, _ = worker.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for w in workers:
                w.kill()
            pytest.fail("a worker did not finish in time")
        outputs.append(output)
        assert worker.returncode == 0, output[-3000:]
    return outputs


def weights(path):
    return [w.numpy() for w in keras.models.load_model(path).trainable_weights]


def check_like_one_process(args, out, tmp_path, run_command, cluster_weights):
    """``out``, a cluster run, holds what one process trains with ``args``.

    The same files (only the chief wrote) and the same weights,
    ``cluster_weights``. The one process is this one, one thread per op pool
    as the workers: no third TensorFlow start.
    """
    single = tmp_path / "single"
    code, _, err = run_command(train.main, *args, "--out", single)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in single.iterdir())
    for a, b in zip(weights(single / "last.keras"), cluster_weights):
        np.testing.assert_allclose(b, a, atol=WEIGHT_TOLERANCE)


@pytest.mark.slow
def test_a_killed_pix2pix_run_trains_like_one_process_and_resumes_when_every_worker_restarts(
        tmp_path, run_command):
    """One cluster, killed and restarted, checks it all.

    Only the chief writes, the epochs before the kill are one process's weight
    for weight (the GAN's two optimizers and its losses summed over workers),
    and the restarted cluster runs no epoch twice. The Colorizer's own step on
    several replicas is compared in test_distribution.py.
    """
    args = [*PIX2PIX, *COMMON, "--epochs", "3"]
    out = tmp_path / "run"
    workers = start_workers(args, out, tmp_path)
    history = pathlib.Path(out / "history.csv")
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and not (history.is_file() and
                                          len(history.read_text().splitlines()) >= 2):
        time.sleep(0.2)  # until an epoch is logged
    assert history.is_file(), "the run logged no epoch"
    workers[1].send_signal(signal.SIGKILL)  # a worker dies...
    time.sleep(2)
    workers[0].send_signal(signal.SIGKILL)  # ...and the chief, stuck in a collective, too
    for w in workers:
        w.communicate(timeout=TIMEOUT)
    done = len(read_csv(history))
    assert 1 <= done < 3
    at_kill = weights(out / "last.keras")  # written before the chief stalled, 2 s later
    check_like_one_process([*args[:-1], str(done)], out, tmp_path, run_command, at_kill)
    left_by_the_kill = set((tmp_path / "tmp").iterdir())
    chief, worker = finish(start_workers(args, out, tmp_path))
    assert "Best model" in chief and "Worker done" in worker
    assert set((tmp_path / "tmp").iterdir()) == left_by_the_kill  # the worker's copy is gone
    epochs = [int(row["epoch"]) for row in read_csv(history)]
    assert epochs == list(range(3))  # resumed after the last finished epoch, none twice
    # The restarted workers trained on, and the chosen model is a working colorizer.
    assert any(not np.array_equal(a, b) for a, b in zip(at_kill, weights(out / "last.keras")))
    model = keras.models.load_model(out / "model.keras", safe_mode=True)
    rgb = model.predict(np.full((1, 24, 40, 1), 0.5, np.float32), verbose=0)
    assert rgb.shape == (1, 24, 40, 3) and np.isfinite(rgb).all()
