"""Batch normalization as one fused kernel on TensorFlow.

Keras 3's `BatchNormalization` computes the moments and the normalization as
separate element-wise ops, with casts around them under a bfloat16 policy.
On a CPU each of those is a pass over the whole activation tensor, and
colorization networks normalize full-resolution maps after every conv. The
fused kernel (oneDNN's batch norm on x86) does it in one pass, forward and
backward. On other backends, and for shapes the kernel does not take, it
falls back to the Keras layer.

The weights are the same four. A ``.keras`` file loads with the classes it
was saved with, so older networks keep working. A weights-only file
(``.weights.h5``, a BackupAndRestore checkpoint) names its groups after the
layer class, so one written with the Keras layer does not load into this
one; copy the weights with ``new.set_weights(old.get_weights())`` instead.
"""

import contextlib

import keras
from keras import layers

_fuse = True
_synchronize = False


@contextlib.contextmanager
def keras_kernels():
    """Build and trace networks with Keras's own batch norm ops inside this block.

    For measuring the fused kernel against the layer it replaces; takes
    effect when a network is traced, not when it runs.
    """
    global _fuse
    previous, _fuse = _fuse, False
    try:
        yield
    finally:
        _fuse = previous


@contextlib.contextmanager
def synchronized():
    """Build batch norm that pools its batch statistics over every replica in this block.

    Under a distribution strategy each replica sees only its share of the
    global batch; pooled statistics make a step the same as on one device
    at that batch. It takes Keras's synchronized layer (the fused kernel
    cannot all-reduce), and does nothing outside a strategy.
    """
    global _synchronize
    previous, _synchronize = _synchronize, True
    try:
        yield
    finally:
        _synchronize = previous


@keras.saving.register_keras_serializable(package="colorkeras")
class FusedBatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization` that runs the fused kernel on TF.

    Same arguments and weights as the Keras layer. The moving variance it
    tracks is the unbiased batch variance (the kernel's), where Keras tracks
    the biased one: a relative difference of 1/(batch x height x width).
    Built inside `synchronized`, it defaults to ``synchronized=True``.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("synchronized", _synchronize and self.pools_statistics)
        super().__init__(**kwargs)

    pools_statistics = True  # False where training never computes batch statistics

    def _can_fuse(self, inputs, mask):
        return (
            _fuse
            and keras.backend.backend() == "tensorflow"
            and mask is None
            and not self.renorm
            and not self.synchronized
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
        )

    def call(self, inputs, training=None, mask=None):
        if not self._can_fuse(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = inputs
        if x.dtype not in (tf.float32, tf.bfloat16, tf.float16):
            x = tf.cast(x, tf.float32)
        channels = x.shape[-1]
        scale = self.gamma if self.scale else tf.ones([channels], tf.float32)
        offset = self.beta if self.center else tf.zeros([channels], tf.float32)
        scale = tf.cast(scale, tf.float32)
        offset = tf.cast(offset, tf.float32)
        moving_mean = tf.cast(self.moving_mean, tf.float32)
        moving_variance = tf.cast(self.moving_variance, tf.float32)
        if training and self.trainable:
            y, new_mean, new_variance = tf.compat.v1.nn.fused_batch_norm(
                x, scale, offset, mean=moving_mean, variance=moving_variance,
                epsilon=self.epsilon, data_format="NHWC", is_training=True,
                exponential_avg_factor=1.0 - self.momentum,
            )
            self.moving_mean.assign(new_mean)
            self.moving_variance.assign(new_variance)
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, scale, offset, mean=moving_mean, variance=moving_variance,
                epsilon=self.epsilon, data_format="NHWC", is_training=False,
            )
        return tf.cast(y, self.compute_dtype)


def batch_norm_layers(network):
    """Every batch norm layer of ``network``, nested models included."""
    found = []
    for layer in network.layers:
        if isinstance(layer, layers.BatchNormalization):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found += batch_norm_layers(layer)
    return found


def recalibrate_batch_norm(network, inputs, batches):
    """Set the moving statistics to the batch statistics of the current weights.

    The moving averages trail the weights by about ``1 / (1 - momentum)``
    steps. When the weights move fast (a GAN, a high learning rate) the
    network in inference mode no longer matches the one that trained, and its
    output can drift far from it (a Pix2Pix generator turned garish where it
    was grayish in training mode). Averaging the moments of ``batches``
    training-mode passes over ``inputs`` with the weights held still fixes
    that ("precise batch norm", as in pycls and fvcore). The weights, and
    training itself, are untouched: training mode normalises with each
    batch's own moments. Returns the number of batches used.
    """
    import numpy as np
    import tensorflow as tf

    norms = [layer for layer in batch_norm_layers(network)
             if layer.trainable and getattr(layer, "recalibrate", True)]
    if not norms:
        return 0
    momenta = [layer.momentum for layer in norms]
    sums = [[np.zeros(layer.moving_mean.shape, np.float64) for _ in range(2)] for layer in norms]
    saved = [(layer.moving_mean.numpy(), layer.moving_variance.numpy()) for layer in norms]
    used = 0
    try:
        for layer in norms:
            layer.momentum = 0.0  # each pass leaves that batch's own moments
        forward = tf.function(lambda x: network(x, training=True))
        for batch in inputs.take(batches):
            forward(batch[0] if isinstance(batch, tuple) else batch)
            for layer, (mean, variance) in zip(norms, sums):
                mean += layer.moving_mean.numpy()
                variance += layer.moving_variance.numpy()
            used += 1
    finally:
        for layer, momentum, (mean, variance), (old_mean, old_variance) in zip(
                norms, momenta, sums, saved):
            layer.momentum = momentum
            layer.moving_mean.assign(mean / used if used else old_mean)
            layer.moving_variance.assign(variance / used if used else old_variance)
    return used
