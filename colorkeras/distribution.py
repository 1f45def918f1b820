"""tf.distribute for training and tuning: one device, local replicas, or many workers.

- ``none``: TensorFlow's default strategy (one device).
- ``mirrored``: `tf.distribute.MirroredStrategy` over the local GPUs, or the CPU
  when there are none.
- ``multi-worker``: `tf.distribute.MultiWorkerMirroredStrategy`; the cluster and
  this process's place in it come from ``TF_CONFIG``, as TensorFlow documents:
  ``{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type":
  "worker", "index": 0}}``. Every worker runs the same command.

``--batch-size`` is always the global batch: each replica takes its share, the
losses are scaled for it (`colorkeras.losses`), and batch norm pools its
statistics over all replicas (`models.batch_norm.synchronized`), so a step
matches one device at that global batch. Only the chief (the ``chief`` task,
or worker 0 when there is none) writes the run folder; the others work in a
temporary copy of it (`run_folder`) that they delete. The run folder must be
on storage every worker sees, as TensorFlow's own fault tolerance assumes.
"""

import contextlib
import json
import os
import shutil
import socket
import tempfile

from colorkeras.errors import InputError

DISTRIBUTIONS = ("none", "mirrored", "multi-worker")


def cluster_spec():
    """``TF_CONFIG`` as a dict, or {} when it is not set."""
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return {}
    try:
        spec = json.loads(text)
    except ValueError as error:
        raise InputError(f"TF_CONFIG is not valid JSON: {error}") from None
    if "cluster" not in spec or "task" not in spec:
        raise InputError('TF_CONFIG needs "cluster" and "task" keys, as in '
                         '{"cluster": {"worker": ["host:port", ...]}, '
                         '"task": {"type": "worker", "index": 0}}')
    return spec


def local_cluster(workers):
    """``host:port`` addresses of ``workers`` free ports on 127.0.0.1: a cluster on one
    machine, for trying multi-worker training (and testing it) without a second one."""
    sockets = [socket.socket() for _ in range(workers)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(cluster, index):
    """The ``TF_CONFIG`` value for worker ``index`` of ``cluster`` (a list of host:port)."""
    return json.dumps({"cluster": {"worker": list(cluster)},
                       "task": {"type": "worker", "index": index}})


def is_chief():
    """Whether this process writes the run folder: the chief, or worker 0 without one."""
    spec = cluster_spec()
    if not spec:
        return True
    task = spec["task"]
    if "chief" in spec["cluster"]:
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0


def make_strategy(name):
    """The `tf.distribute.Strategy` a ``--distribution`` name asks for (None for none)."""
    if name not in DISTRIBUTIONS:
        raise InputError(f"`distribution` must be one of {DISTRIBUTIONS}. Received: {name!r}")
    if name == "none":
        return None
    import tensorflow as tf

    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    else:
        spec = cluster_spec()
        if not spec:
            raise InputError("--distribution multi-worker needs TF_CONFIG: the cluster's "
                             "workers and this process's task (see the README)")
        # RING collectives over gRPC: what works on CPUs as well as GPUs.
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.AUTO)
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    print(f"{type(strategy).__name__} over {strategy.num_replicas_in_sync} replica(s)",
          flush=True)
    return strategy


@contextlib.contextmanager
def scope(strategy):
    """``strategy.scope()`` with synchronized batch norm, or nothing for None."""
    if strategy is None:
        yield
        return
    from colorkeras.models import batch_norm

    # One replica has nothing to pool, and keeps the fused batch norm kernel.
    pooled = batch_norm.synchronized() if strategy.num_replicas_in_sync > 1 else (
        contextlib.nullcontext())
    with strategy.scope(), pooled:
        yield


@contextlib.contextmanager
def run_folder(out, chief):
    """The folder this process writes: ``out`` for the chief, a temporary copy otherwise.

    A worker's copy starts as the chief's folder is (history, config, backup),
    so every worker resumes from the same epoch with the same weights, and is
    deleted at the end. TensorBoard logs are not copied.
    """
    if chief:
        yield out
        return
    scratch = tempfile.mkdtemp(prefix="colorkeras-worker-")
    try:
        copy = os.path.join(scratch, os.path.basename(os.path.normpath(out)) or "run")
        if os.path.isdir(out):
            shutil.copytree(out, copy, ignore=shutil.ignore_patterns("logs"))
        yield copy
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --- losses and logs inside a step ------------------------------------------------


def replicas_in_sync():
    """How many replicas the current strategy (or none: 1) runs a step on."""
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_share(value):
    """``value / replicas``: a replica's share of a loss that is a mean over the global batch.

    Each replica's gradients are summed across replicas, so each replica's
    loss must be its mean divided by the replica count; Keras's `Loss`
    objects do this themselves, plain `tf.reduce_mean` terms need it here.
    """
    return value / replicas_in_sync()


def global_value(value):
    """The figure to log for a loss scaled by `replica_share` (or a Keras `Loss`)."""
    return value * replicas_in_sync()


def step_logs(logs):
    """A step's logged figures, shaped so that Keras can reduce them over workers.

    Under `MultiWorkerMirroredStrategy` Keras 3.15 averages each figure over
    the replicas along axis 0, which a scalar does not have; a ``[1]`` vector
    averages to the same scalar. Elsewhere the figures stay scalars.
    """
    import tensorflow as tf

    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs
