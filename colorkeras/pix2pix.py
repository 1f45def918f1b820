"""Pix2Pix: a generator trained against a PatchGAN discriminator.

A pixel loss alone makes a colorizer predict the mean of every plausible
colour, which is gray-brown. The adversarial term rewards colours a
discriminator cannot tell from real ones, so the generator commits to one
plausible mode; the reconstruction term, weighted by ``lambda_``, keeps it
near the truth. With the least-squares GAN loss (the study's choice):

    D loss = E[(1 - D(x, y))^2] + E[D(x, G(x))^2]
    G loss = lambda * L(G(x), y) + E[(1 - D(x, G(x)))^2]

``gan_loss="bce"`` swaps both for the original binary cross-entropy form.
The model trains on 128x128 crops and, being fully convolutional, the same
generator weights run on full 256x256 photos (the study's Patch-Pix2Pix).
"""

import keras
import tensorflow as tf

from colorkeras.colorizer import Colorizer, example_batch
from colorkeras.distribution import global_value, replica_share, step_logs
from colorkeras.errors import InputError
from colorkeras.models import build_model, hparams_of
from colorkeras.models.patchgan import build_patchgan

GAN_LOSSES = ("lsgan", "bce")


def discriminator_loss(real_scores, fake_scores, gan_loss="lsgan"):
    """How well D scores real patches 1 and generated patches 0.

    Like every loss here it is a replica's share under `tf.distribute`
    (`distribution.replica_share`), as Keras's own losses are, so the terms keep
    their weights whatever the replica count.
    """
    if gan_loss == "lsgan":
        return replica_share(tf.reduce_mean(tf.square(1.0 - real_scores))
                             + tf.reduce_mean(tf.square(fake_scores)))
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(tf.ones_like(real_scores), real_scores) + bce(
        tf.zeros_like(fake_scores), fake_scores
    )


def generator_adversarial_loss(fake_scores, gan_loss="lsgan"):
    """How far G is from having its patches scored real."""
    if gan_loss == "lsgan":
        return replica_share(tf.reduce_mean(tf.square(1.0 - fake_scores)))
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(tf.ones_like(fake_scores), fake_scores)


class Pix2Pix(Colorizer):
    """A generator (any registry architecture) and a PatchGAN, trained together.

    A `Colorizer` whose network is the generator; it has its own
    ``train_step``, for two optimizers. What is saved and shipped is
    `as_colorizer`: the generator alone.

    Args:
        generator: a `ColorizationNetwork`, gray -> target.
        discriminator: PatchGAN taking ``[gray, image]`` (conditional) or
            ``image`` alone (unconditional).

    Example:

    >>> gan = build_pix2pix(generator_hparams={"base_filters": 8, "depth": 2})
    >>> gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             keras.optimizers.Adam(2e-4, beta_1=0.5), lambda_=100.0)
    >>> gan.fit(pipeline.dataset, steps_per_epoch=10)  # doctest: +SKIP
    """

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(generator, **kwargs)
        self.discriminator = discriminator
        self.conditional = len(discriminator.inputs) == 2
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.gan_loss_tracker = keras.metrics.Mean(name="gan_loss")
        self.rec_loss_tracker = keras.metrics.Mean(name="rec_loss")

    @property
    def generator(self):
        return self.network

    @property
    def colorizer(self):
        """The generator as a `Colorizer` (`as_colorizer`): what is saved and shipped."""
        return self.as_colorizer()

    def save(self, filepath, *args, **kwargs):
        """Refused: a GAN in training is resumed from its run folder, shipped as `.colorizer`."""
        raise InputError(unsaveable(filepath))

    def get_config(self):
        # keras.saving.save_model(gan, ...) asks for the config without `save`.
        raise InputError(unsaveable())

    def compile(
        self,
        g_optimizer,
        d_optimizer,
        reconstruction="mae",
        gan_loss="lsgan",
        lambda_=100.0,
        gan_weight=1.0,
        encoder_scale=None,
        **kwargs,
    ):
        """One optimizer per network, the two loss choices and their weights.

        ``gan_weight=0`` turns the adversarial term of G off (D still trains),
        leaving a plain regression model for comparison. ``reconstruction``
        may also be a loss object, such as the a*b* classification loss of a
        generator with a classification head (it then sees the bin logits,
        and D the decoded chroma). ``encoder_scale`` sets the rate of a
        generator's ImageNet encoder, as in `Colorizer.compile`.
        """
        if gan_loss not in GAN_LOSSES:
            raise InputError(
                f"`gan_loss` must be one of {list(GAN_LOSSES)}. Received: gan_loss={gan_loss!r}"
            )
        if lambda_ < 0 or gan_weight < 0:
            raise InputError(
                "Loss weights must be non-negative. "
                f"Received: lambda_={lambda_}, gan_weight={gan_weight}"
            )
        super().compile(optimizer=g_optimizer, loss=reconstruction, encoder_scale=encoder_scale,
                        **kwargs)
        if self.dtype_policy.name == "mixed_float16" and not isinstance(
            d_optimizer, keras.optimizers.LossScaleOptimizer
        ):
            d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
        self.d_optimizer = d_optimizer
        self.gan_loss = gan_loss
        self.lambda_ = float(lambda_)
        self.gan_weight = float(gan_weight)

    @property
    def g_optimizer(self):
        return self.optimizer

    @property
    def metrics(self):
        return [
            self.g_loss_tracker,
            self.d_loss_tracker,
            self.gan_loss_tracker,
            self.rec_loss_tracker,
            self.rgb_mae_tracker,
            self.psnr_tracker,
            *self.colour_trackers,
            *getattr(self, "_chroma_metrics", []),
        ]

    def build_state(self, gray):
        gray = example_batch(gray)
        self.network(gray)
        self.discriminate(gray, self.network(gray), training=False)
        self.optimizer.build(self.network.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        object.__setattr__(self, "_state_built", True)

    def forward(self, gray, training):
        """``(what the reconstruction loss sees, the chroma)`` for a batch."""
        outputs = self(gray, training=training)
        return self.loss_input(outputs), outputs["chroma"]

    def results(self, training):
        """The logged figures: the validation-only colour metrics when not training."""
        object.__setattr__(self, "_training_step", training)
        return step_logs({m.name: m.result() for m in self.shown_metrics()})

    def discriminate(self, gray, image, training):
        image = tf.cast(image, self.discriminator.inputs[-1].dtype)
        inputs = [gray, image] if self.conditional else image
        return tf.cast(self.discriminator(inputs, training=training), tf.float32)

    def losses_for(self, gray, target, loss_input, fake, training):
        """Both networks' losses for one batch, as named in the docstring.

        ``loss_input`` is what the reconstruction loss compares with the
        target: the output itself, or a classification head's logits.
        """
        real_scores = self.discriminate(gray, target, training)
        fake_scores = self.discriminate(gray, fake, training)
        rec = self.pixel_loss(target, loss_input)
        gan = generator_adversarial_loss(fake_scores, self.gan_loss)
        g_loss = self.lambda_ * rec + self.gan_weight * gan
        d_loss = discriminator_loss(real_scores, fake_scores, self.gan_loss)
        return g_loss, d_loss, gan, rec

    def track(self, gray, target, fake, g_loss, d_loss, gan, rec, training):
        self.g_loss_tracker.update_state(global_value(g_loss))
        self.d_loss_tracker.update_state(global_value(d_loss))
        self.gan_loss_tracker.update_state(global_value(gan))
        self.rec_loss_tracker.update_state(global_value(rec))
        self.track_rgb(gray, target, fake, training)
        self.track_chroma(target, fake)
        return self.results(training)

    def train_step(self, data):
        gray, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            loss_input, fake = self.forward(gray, training=True)
            fake = tf.cast(fake, tf.float32)
            g_loss, d_loss, gan, rec = self.losses_for(gray, target, loss_input, fake,
                                                       training=True)
            scaled_g_loss = self.g_optimizer.scale_loss(g_loss)
            scaled_d_loss = self.d_optimizer.scale_loss(d_loss)
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(scaled_g_loss, g_vars), g_vars))
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(scaled_d_loss, d_vars), d_vars))
        return self.track(gray, target, fake, g_loss, d_loss, gan, rec, training=True)

    def test_step(self, data):
        gray, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        loss_input, fake = self.forward(gray, training=False)
        fake = tf.cast(fake, tf.float32)
        g_loss, d_loss, gan, rec = self.losses_for(gray, target, loss_input, fake,
                                                   training=False)
        return self.track(gray, target, fake, g_loss, d_loss, gan, rec, training=False)


def unsaveable(filepath=None):
    """Why a whole Pix2Pix is not saved, and what to save instead."""
    target = repr(str(filepath)) if filepath is not None else "path"
    return ("A whole Pix2Pix is not saved: its discriminator and second optimizer are "
            "training state (`save_weights` keeps them, as `train` does to resume). Save "
            f"the colorizer it trains instead: gan.colorizer.save({target})")


DEFAULT_GENERATOR = "unet"


def build_pix2pix(
    input_shape=(None, None, 1),
    color_space="rgb",
    generator=DEFAULT_GENERATOR,
    generator_hparams=None,
    discriminator_hparams=None,
    **hparams,
):
    """An untrained `Pix2Pix` with a registry generator and a PatchGAN.

    Args:
        input_shape: the gray input; `(None, None, 1)` runs at any size.
        color_space: what the generator predicts ("rgb", "lab" or "yuv").
        generator: registry name of the generator architecture.
        generator_hparams: the generator's hyperparameters (``head=
            "classification"`` gives it an a*b* classification head).
        discriminator_hparams: keyword arguments of `build_patchgan`
            (`num_layers`, `base_filters`, `conditional`, ...).
        **hparams: merged into `generator_hparams`, so
            `build_model("pix2pix", depth=3)` reads like `build_model("unet", depth=3)`.
    """
    if generator == "pix2pix":
        raise InputError(
            "A Pix2Pix generator cannot itself be pix2pix. Received: generator='pix2pix'")
    g_hparams = {**(generator_hparams or {}), **hparams}
    net = build_model(generator, input_shape=input_shape, color_space=color_space, **g_hparams)
    disc = build_patchgan(
        input_shape=input_shape, color_space=color_space, **(discriminator_hparams or {})
    )
    return Pix2Pix(net, disc, name="pix2pix")


# The registry asks an architecture for its defaults: Pix2Pix's are its generator's.
build_pix2pix.default_hparams = lambda: hparams_of(DEFAULT_GENERATOR)
