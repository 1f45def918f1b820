"""The colorizer task: one object that is trained, saved and used.

As a keras-hub task holds a backbone, a `Colorizer` holds a
`ColorizationNetwork` and adds what turns it into a colorizer:

- training with Keras's own ``fit``: calling the colorizer gives what the
  loss compares with the target (the chroma, and a classification head's bin
  logits), `compute_loss` takes the pixel loss there, and `compute_metrics`
  reports RGB MAE and PSNR, plus CIEDE2000 and the colourfulness ratio on
  validation, the two figures that tell a grayish colorizer from a credible
  one;
- RGB for people: `rgb` (and ``predict``) take gray of any size, reflect-pad
  it to the network's size multiple, decode the network's colour space to RGB
  and crop back;
- the colorization recipe, `ColorizeRecipe.colorize`: photos in, photos of
  the same size out, the network at a render size and its colour put onto
  each photo's own luminance. Every path that colorizes (the Python API, the
  command, video, evaluation, the app, the SavedModel) calls it, and the
  portable runtimes offer it too;
- one ``.keras`` file, loaded with ``safe_mode=True``: the network's config
  carries its hyperparameters, so nothing else is needed to rebuild it;
- presets, as keras-hub's tasks have: `Colorizer.from_preset` loads a shipped
  model by name, or any preset folder (`colorkeras.presets`), and
  `Colorizer.presets` lists the named ones with their metadata.
"""

import collections
import weakref

import keras
import numpy as np
import tensorflow as tf

from colorkeras import color, distribution, losses, metrics, optimizers, presets, rendering
from colorkeras.errors import InputError
from colorkeras.hints import hint_points, rasterize_hints
from colorkeras.layers import CropLike, DecodeOutput, PadToMultiple
from colorkeras.models import efficientnet_lite
from colorkeras.models.network import ColorizationNetwork


def example_batch(inputs):
    """A one-image batch of zeros for a `tf.TensorSpec` (or a tuple of them); a batch as tensors."""
    def one(spec):
        if isinstance(spec, tf.TensorSpec):
            return tf.zeros([1, *spec.shape[1:]], spec.dtype)
        return tf.convert_to_tensor(spec, tf.float32)

    return as_network_inputs(tf.nest.map_structure(one, inputs))


def as_network_inputs(inputs):
    """Gray, or ``[gray, hints]`` for a network with a hint input (a tuple becomes a list)."""
    return list(inputs) if isinstance(inputs, (tuple, list)) else inputs


def gray_of(inputs):
    """The gray photo of a network's inputs (gray, or ``(gray, hints)``)."""
    return inputs[0] if isinstance(inputs, (tuple, list)) else inputs


HINT_POINTS_SPEC = tf.TensorSpec([None, 6], tf.float32, name="hint_points")
"""Colour hints: (x, y, radius, r, g, b) rows, as `hints.hint_points` makes them."""

ColorizeFunction = collections.namedtuple("ColorizeFunction", ["render", "finish"])
"""The two compiled halves of `ColorizeRecipe.colorize`, for one setting."""


class ColorizeRecipe:
    """The one colorization recipe, for anything with an ``rgb(gray)`` method.

    `Colorizer` and `runtimes.PortableColorizer` inherit it, so a ``.keras``
    file and an ONNX or LiteRT export colorize a photo by the same steps, and
    no other module recombines luminance or rounds to uint8.
    """

    @property
    def takes_hints(self):
        """Whether the network has a colour-hint input (`colorkeras.hints`)."""
        return bool(getattr(getattr(self, "network", None), "has_hints", False))

    def colorize(self, images, *, render_size=rendering.DEFAULT_RENDER_SIZE,
                 keep_luminance=True, chroma_filter=None, hints=None):
        """Colorize a batch of same-size photos: uint8 RGB of the same size comes back.

        The network runs with the shorter side at ``render_size``; its chroma
        is upsampled and put onto each photo's own full-resolution luma, so
        the result is as sharp as the input whatever the network's size. That
        also bounds the time and memory a huge photo costs, and
        `rendering.render_shape` bounds a thin one's.

        Args:
            images: uint8 ``[N, H, W, C]``, C in 1-4 (see `rendering.to_rgb`).
            render_size: the shorter side the network sees; None for the
                photo's own size (within `rendering.max_render_pixels`).
            keep_luminance: keep the photo's luminance; False returns the
                network's own RGB, resized.
            chroma_filter: None, or ``filter(luma, chroma) -> chroma``, run on
                the network's colour at render size before it is upsampled:
                ``luma`` ``[N, h, w, 1]`` is the gray the network saw,
                ``chroma`` ``[N, h, w, 2]`` the BT.601 U and V of its RGB. It
                is called between the two compiled halves, eagerly when
                ``colorize`` is, so it may keep state from call to call: video
                passes a `video.ChromaStabilizer`, which holds the colour still
                from frame to frame.
            hints: colour hints for every photo of the batch, for a network
                with a hint input: a list as `hints.hint_points` takes
                (``(x, y, colour[, radius])`` in the photos' pixels), or its
                float32 ``[K, 6]`` rows.

        Returns:
            uint8 RGB ``[N, H, W, 3]``, a tensor.

        Examples:
        ```python
        colorizer = colorkeras.load("unet")
        rgb = colorizer.colorize(photos, render_size=512)  # photos: uint8 [N, H, W, 3]
        ```
        """
        images = tf.convert_to_tensor(images)
        if images.dtype != tf.uint8:
            raise InputError("`images` must be uint8 [N, H, W, C] (`colorkeras.colorize` "
                             f"takes other kinds). Received: dtype={images.dtype.name}")
        function = self.make_colorize_function(render_size, keep_luminance, hints is not None)
        if hints is None:
            gray, luma, yuv = function.render(images)
        else:
            if not self.takes_hints:
                raise InputError(f"{getattr(self, 'name', type(self).__name__)!r} takes no "
                                 "colour hints: use a model with a hint input, such as "
                                 "'unet-hints'")
            if not isinstance(hints, (tf.Tensor, np.ndarray)):
                hints = hint_points(hints, *images.shape[1:3])
            gray, luma, yuv = function.render(images, tf.cast(hints, tf.float32))
        if tf.executing_eagerly() and yuv.shape[1:3] != luma.shape[1:3]:
            # Resizing would hide it; a runtime or a subclass has gone wrong.
            raise InputError(
                f"{getattr(self, 'name', type(self).__name__)!r} returned images of shape "
                f"{tuple(yuv.shape)[1:]} for gray input of shape {tuple(luma.shape)[1:]}; a "
                "colorizer must return RGB of its input's size")
        if chroma_filter is not None:
            chroma = tf.cast(chroma_filter(luma, yuv[..., 1:]), tf.float32)
            yuv = tf.concat([yuv[..., :1], chroma], axis=-1)
        return function.finish(gray, yuv)

    def make_colorize_function(self, render_size=rendering.DEFAULT_RENDER_SIZE,
                               keep_luminance=True, with_hints=False):
        """`colorize` compiled for one setting: made once and kept on this object.

        As keras-hub's ``make_generate_function``, so a loop over photos
        traces nothing again. Each half takes any batch, size and channel
        count, so it is traced once. The network half reaches this object
        through a weak reference: the functions it keeps do not keep it alive.
        ``with_hints``: the network half takes ``(images, hint_points)``.
        """
        render_size = rendering.check_render_size(render_size)
        functions = getattr(self, "_colorize_functions", None)
        if functions is None:
            functions = {}
            # Past Keras's attribute tracking: not a layer, not saved.
            object.__setattr__(self, "_colorize_functions", functions)
        # The network half depends on the render size only, so it is traced
        # once whether the luminance is kept or not.
        key = ("render", render_size, bool(with_hints))
        if key not in functions:
            ref = weakref.ref(self)
            if with_hints:
                @tf.function(input_signature=[rendering.IMAGES_SPEC, HINT_POINTS_SPEC])
                def render(images, points):
                    return ref().render_step(images, render_size, points)
            else:
                @tf.function(input_signature=[rendering.IMAGES_SPEC])
                def render(images):
                    return ref().render_step(images, render_size)

            functions[key] = render
        keep_luminance = bool(keep_luminance)
        if ("finish", keep_luminance) not in functions:
            functions["finish", keep_luminance] = tf.function(
                lambda gray, yuv: finish_step(gray, yuv, keep_luminance),
                input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32),
                                 tf.TensorSpec([None, None, None, 3], tf.float32)])
        return ColorizeFunction(functions[key], functions["finish", keep_luminance])

    def render_step(self, images, render_size, points=None):
        """The network's half of the recipe: ``(gray, luma, yuv)``.

        ``gray`` is the photos' full-size luma, ``luma`` the render-size gray
        the network sees, and ``yuv`` the YUV of its RGB at that size.
        ``points``: hint rows, painted at render size for every photo.
        """
        gray = color.luminance(rendering.to_rgb(images))
        luma = tf.image.resize(gray, rendering.render_shape(tf.shape(gray)[1:3], render_size),
                               method="bilinear", antialias=True)
        if points is None:
            return gray, luma, color.rgb_to_yuv(self.rgb(luma))
        painted = rasterize_hints(points, tf.shape(gray)[1:3], tf.shape(luma)[1:3])
        hints = tf.repeat(painted, tf.shape(luma)[0], axis=0)
        return gray, luma, color.rgb_to_yuv(self.rgb(luma, hints=hints))


def finish_step(gray, yuv, keep_luminance):
    """uint8 RGB of ``gray``'s size from the network's YUV at render size.

    With ``keep_luminance`` the chroma is upsampled onto the full-size luma;
    otherwise the network's own RGB is resized (antialiased, as it may
    shrink).
    """
    if keep_luminance:
        rgb = color.with_chroma(gray, yuv[..., 1:])
    else:
        rgb = tf.image.resize(color.yuv_to_rgb(yuv), tf.shape(gray)[1:3], method="bilinear",
                              antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(rgb, 0.0, 1.0) * 255.0), tf.uint8)


class classproperty:
    """A read-only property of a class, as keras-hub's ``Task.presets`` is."""

    def __init__(self, getter):
        self.getter = getter
        self.__doc__ = getter.__doc__

    def __get__(self, instance, owner):
        return self.getter(owner)


class BuildsStateFirst:
    """For a model whose ``build_state`` creates every variable before ``fit``.

    `Colorizer` and `pix2pix.Pix2Pix` share it.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skip Keras's build from the first distributed batch once `build_state` ran.

        Under a distribution strategy Keras 3.15 draws the first batch from
        the training iterator to build the model, so the first step trains on
        the second batch, not the one a single device would see, and it
        averages that batch over the replicas, which
        `MultiWorkerMirroredStrategy` cannot do outside a step
        (keras-team/keras#20585). `build_state` has already created every
        variable, so nothing is drawn. Without it, one replica's share of the
        batch gives the shapes.
        """
        strategy = self._distribute_strategy
        if strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator, data_batch)
        if getattr(self, "_state_built", False):
            return None
        for _, _, it in iterator:
            batch = next(it)
            data_batch = tf.nest.map_structure(
                lambda v: strategy.experimental_local_results(v)[0]
                if isinstance(v, tf.distribute.DistributedValues) else v, batch)
            break
        return super()._maybe_symbolic_build(None, data_batch)


@keras.saving.register_keras_serializable(package="colorkeras")
class Colorizer(ColorizeRecipe, BuildsStateFirst, keras.Model):
    """A colorization network with its colour space, loss, metrics and RGB decoding.

    Args:
        network: a `ColorizationNetwork` (as `build_model` makes); built for
            ``input_shape=(None, None, 1)``, the default, it colorizes any size.
        rgb_metrics_in_training: also report RGB MAE and PSNR of the training
            batches. Rebuilding RGB costs time in every step; validation
            reports them either way.

    Calling it returns a dict: ``"chroma"``, the network's output in its
    colour space, and for a classification head ``"logits"``, what a
    keras-hub task's call returns. `rgb` and ``predict`` give RGB, and
    `colorize` (`ColorizeRecipe`) colorizes uint8 photos of any size.

    Examples:
    ```python
    colorizer = Colorizer(build_model("unet", color_space="lab", depth=2))
    colorizer.compile(optimizer="adam", loss="mae")
    colorizer.fit(pipeline.dataset, steps_per_epoch=10)
    rgb = colorizer.predict(gray)  # [N, H, W, 3] for gray [N, H, W, 1], any H and W
    photos = colorizer.colorize(uint8_photos, render_size=256)  # [N, H, W, 3] uint8
    ```
    """

    def __init__(self, network, rgb_metrics_in_training=True, **kwargs):
        if not isinstance(network, ColorizationNetwork):
            raise InputError("A Colorizer needs a `ColorizationNetwork`, as `build_model` "
                             f"makes. Received: a {type(network).__name__}")
        kwargs.setdefault("name", f"{network.name}_colorizer")
        super().__init__(**kwargs)
        self.network = network
        self.color_space = network.color_space
        self.rgb_metrics_in_training = rgb_metrics_in_training
        # float32 whatever the global policy: colour maths in bfloat16 would band.
        self.pad = PadToMultiple(network.size_multiple, name="pad", dtype="float32")
        self.decode = DecodeOutput(self.color_space, name="decode", dtype="float32")
        self.crop = CropLike(name="crop", dtype="float32")
        self.rgb_mae_tracker = keras.metrics.Mean(name="mae")
        self.psnr_tracker = keras.metrics.Mean(name="psnr")
        self.colour_trackers = [metrics.DeltaE2000(), metrics.ColorfulnessRatio()]
        # A view sharing the network's layers, kept out of Keras's tracking
        # so that it is not saved a second time.
        object.__setattr__(self, "_logits_view", network.logits_view())
        object.__setattr__(self, "_training_step", False)
        # The network was built with its graph; the other layers have no weights.
        self.built = True

    # --- use -------------------------------------------------------------------

    def call(self, inputs, training=None):
        inputs = as_network_inputs(inputs)
        if self._logits_view is None:
            return {"chroma": self.network(inputs, training=training)}
        logits, chroma = self._logits_view(inputs, training=training)
        return {"chroma": chroma, "logits": logits}

    def rgb(self, gray, hints=None):
        """RGB in [0, 1], ``[N, H, W, 3]``, for gray ``[N, H, W, 1]`` of any H and W.

        Reflect padding keeps the borders looking like the photo, so the
        network sees no dark frame to colour. ``hints``: ``[N, H, W, 3]``
        colour hints (a*b* / 110 and a mask, see `colorkeras.hints`) for a
        network with a hint input; without them it colours on its own.
        """
        gray = keras.ops.cast(gray, "float32")
        padded = self.pad(gray)
        if self.network.has_hints:
            if hints is None:
                hints = keras.ops.zeros([*keras.ops.shape(gray)[:3], 3], "float32")
            padded = [padded, self.pad(keras.ops.cast(hints, "float32"))]
        elif hints is not None:
            raise InputError(f"{self.network.name} takes no colour hints: use a model with a "
                             "hint input, such as 'unet-hints'")
        chroma = self.network(padded, training=False)
        return self.crop([self.decode([gray_of(padded), chroma]), gray])

    def predict_step(self, data):
        gray, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.rgb(gray)

    # --- presets -------------------------------------------------------------------

    @classproperty
    def presets(cls):
        """``{name: metadata}`` of the named presets, the shipped models among them.

        Each metadata dict has `presets.FIELDS` (description, parameters,
        colour space, training data, licence, card), ``name`` and ``folder``.
        """
        return presets.list_presets()

    @classmethod
    def from_preset(cls, preset):
        """Load a preset: a name from `presets`, or a preset folder.

        A folder is any that holds ``<folder>.keras`` or ``model.keras``: a
        shipped model's, a training run's (``colorkeras train``), or the base
        folder of a SavedModel export (``colorkeras export``). Loaded with
        ``safe_mode=True``; what it is is in ``presets.metadata(preset)``.

        Examples:
        ```python
        colorizer = Colorizer.from_preset("unet")
        colorizer = Colorizer.from_preset("runs/my_unet")
        Colorizer.presets["unet"]["license"]
        ```
        """
        if str(preset).endswith(".keras"):
            raise InputError("`from_preset` takes a preset's name or folder; load a file "
                             f"with `colorkeras.load`. Received: preset={str(preset)!r}")
        return load_file(presets.resolve(preset))

    def as_colorizer(self):
        """A fresh, uncompiled `Colorizer` sharing this network: what is saved and shipped.

        It carries no optimizer state, so the file holds the weights alone.
        """
        return Colorizer(self.network, name=self.name)

    # --- training ----------------------------------------------------------------

    def compile(self, optimizer="adam", loss="mae", encoder_scale=None, metrics=None,
                **kwargs):
        """Set the optimizer and the pixel loss (a name from `losses.LOSSES`, or a Loss).

        ``encoder_scale``: with an ImageNet encoder in the network, the
        encoder learns at this share of the rate (0 freezes it; see
        `optimizers.EncoderAwareAdam`, which ``optimizer`` is then made
        into if it is a learning rate or "adam").

        ``metrics``: more figures, as for any Keras model (names such as
        "mse", functions or `keras.metrics.Metric` objects). They compare
        the chroma with the target, in the network's colour space, so they
        are logged as ``chroma_<name>``, beside the RGB MAE and PSNR the
        colorizer always reports.
        """
        if kwargs.get("weighted_metrics"):
            raise InputError("A Colorizer takes `metrics`, not `weighted_metrics`. "
                             f"Received: weighted_metrics={kwargs['weighted_metrics']!r}")
        optimizer = encoder_aware(optimizer, self.network, encoder_scale)
        super().compile(optimizer=optimizer, **kwargs)
        # Keras's compiled metrics would compare the target with the output dict;
        # these compare it with the chroma.
        object.__setattr__(self, "_chroma_metrics", [chroma_metric(m) for m in metrics or []])
        self.pixel_loss = losses.get_loss(loss) if isinstance(loss, str) else loss

    def loss_input(self, outputs):
        """What the pixel loss compares with the target: the logits, else the chroma."""
        return outputs.get("logits", outputs["chroma"])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # Which figures the step reports is decided as its graph is traced.
        object.__setattr__(self, "_training_step", training)
        loss = self.pixel_loss(y, self.loss_input(y_pred), sample_weight)  # a replica's share
        if self.losses:
            loss += distribution.replica_share(tf.add_n(self.losses))
        return loss

    @property
    def metrics(self):
        return [*super().metrics, *getattr(self, "_chroma_metrics", [])]

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.track_rgb(gray_of(x), y, y_pred["chroma"], training=self._training_step)
        self.track_chroma(y, y_pred["chroma"], sample_weight)
        return self.get_metrics_result()

    def track_chroma(self, target, chroma, sample_weight=None):
        """Update the metrics given to `compile` (none by default)."""
        update_chroma_metrics(getattr(self, "_chroma_metrics", []), target, chroma,
                              sample_weight)

    def track_rgb(self, gray, target, prediction, training=False):
        """Update the RGB metrics from a batch in the target space.

        The truth is rebuilt from its own target the same way as the
        prediction, so both share the luminance the network was given.
        CIEDE2000 and colourfulness are left out of training steps, where
        they would only cost time, and so is everything without
        ``rgb_metrics_in_training``.
        """
        if training and not self.rgb_metrics_in_training:
            return
        true_rgb = color.decode_output(gray, target, self.color_space)
        pred_rgb = color.decode_output(gray, tf.cast(prediction, tf.float32), self.color_space)
        self.rgb_mae_tracker.update_state(metrics.mae(true_rgb, pred_rgb))
        self.psnr_tracker.update_state(metrics.psnr(true_rgb, pred_rgb))
        if not training:
            for tracker in self.colour_trackers:
                tracker.update_state(true_rgb, pred_rgb)

    def hidden_metrics(self, training):
        """The trackers a step leaves out: validation's colour figures while training.

        RGB MAE and PSNR too, without ``rgb_metrics_in_training``.
        """
        hidden = []
        if training:
            hidden += self.colour_trackers
            if not self.rgb_metrics_in_training:
                hidden += [self.rgb_mae_tracker, self.psnr_tracker]
        return hidden

    def shown_metrics(self):
        """The metrics a step reports (see `hidden_metrics`)."""
        hidden = self.hidden_metrics(self._training_step)
        return [m for m in self.metrics if m not in hidden]

    def get_metrics_result(self):
        return distribution.step_logs({m.name: m.result() for m in self.shown_metrics()})

    def build_state(self, gray):
        """Create every variable, optimizer slots included, before ``fit``.

        BackupAndRestore can only restore into variables that exist, so a
        resumed run must have them before its first step. ``gray`` is a batch,
        or the `tf.TensorSpec` of a dataset's gray input.
        """
        self(example_batch(gray))
        self.optimizer.build(self.trainable_variables)
        object.__setattr__(self, "_state_built", True)

    # --- saving --------------------------------------------------------------------

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "network": keras.saving.serialize_keras_object(self.network),
                "rgb_metrics_in_training": self.rgb_metrics_in_training}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)


def as_colorizer(model):
    """A `Colorizer` for a colorizer or a bare `ColorizationNetwork`; anything else is an error."""
    if isinstance(model, ColorizeRecipe):
        return model
    if isinstance(model, ColorizationNetwork):
        if tuple(model.inputs[0].shape[1:3]) != (None, None):
            raise InputError(
                "A colorizer needs a network built for any size, i.e. input_shape=(None, None, "
                f"1). Received: a network with input shape {tuple(model.inputs[0].shape)}")
        return Colorizer(model)
    raise InputError(
        "Expected a colorkeras colorizer or network. Received: a "
        f"{type(model).__name__}. A .keras file saved before colorkeras 0.2 holds a bare "
        "Functional network, which does not say what it is: start a run from its weights "
        "with `python -m colorkeras.train ... --init-from FILE` (tuning/convert_shipped.py "
        "converted the shipped ones)")


def load_file(path):
    """The `Colorizer` in a ``.keras`` file (a colorizer, or a bare network), ``safe_mode``."""
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - a bad file raises anything
        raise unloadable(path, error) from error
    return as_colorizer(model)


def unloadable(path, error):
    """The one-line `InputError` for a model file that exists but does not load.

    Keras says "File not found" for a text file named ``.keras``, and a
    Lambda layer fails deep in deserialization; the user needs the file's
    name and the first line of the reason.
    """
    import zipfile

    from colorkeras.errors import first_line

    reason = first_line(error)
    if not zipfile.is_zipfile(path):
        reason = "it is not a .keras file (those are zip archives)"
    return InputError(f"{path}: cannot load it as a colorkeras model: {reason}")


def colorizer_in_training(model):
    """The `Colorizer` that ``fit`` trains in ``model``: itself, or a GAN's ``colorizer``.

    Callbacks and the training set-up reach the network through it, whichever
    trainer the run's config chose.
    """
    return getattr(model, "colorizer", model)


def update_chroma_metrics(chroma_metrics, target, chroma, sample_weight=None):
    """Update metrics given to ``compile``, which compare the chroma with the target."""
    chroma = tf.cast(chroma, tf.float32)
    for metric in chroma_metrics:
        metric.update_state(target, chroma, sample_weight)


def chroma_metric(identifier):
    """A `keras.metrics.Metric` for a `compile` metric.

    A name or a function is logged as ``chroma_<name>``, since it compares
    chroma, not the RGB that ``mae`` and ``psnr`` report.
    """
    metric = keras.metrics.get(identifier)
    if isinstance(identifier, str):  # "mse" is a MeanSquaredError() here
        name = f"chroma_{identifier}"
        return (type(metric)(name=name) if isinstance(metric, keras.metrics.Metric)
                else keras.metrics.MeanMetricWrapper(metric, name=name))
    if isinstance(metric, keras.metrics.Metric):
        return metric
    return keras.metrics.MeanMetricWrapper(metric, name=f"chroma_{metric.__name__}")


def encoder_aware(optimizer, network, encoder_scale, **adam_args):
    """``optimizer``, made an `EncoderAwareAdam` when the network has an ImageNet encoder.

    A learning rate (float) or "adam" becomes that optimizer; an optimizer
    object is kept as it is. Without an encoder, or with ``encoder_scale``
    None, nothing changes.
    """
    encoder = efficientnet_lite.encoder_variables(network)
    if encoder_scale is None or not encoder:
        return optimizer
    if isinstance(optimizer, str) and optimizer != "adam":
        raise InputError("`encoder_scale` needs Adam: pass optimizer='adam', a learning rate, "
                         f"or an EncoderAwareAdam. Received: optimizer={optimizer!r}")
    if isinstance(optimizer, (str, float, int)):
        rate = 1e-3 if isinstance(optimizer, str) else float(optimizer)
        optimizer = optimizers.EncoderAwareAdam(encoder_scale, learning_rate=rate, **adam_args)
    if not isinstance(optimizer, optimizers.EncoderAwareAdam):
        raise InputError("`encoder_scale` needs an EncoderAwareAdam (or 'adam' / a rate). "
                         f"Received: a {type(optimizer).__name__}")
    optimizer.set_encoder_variables(encoder)
    return optimizer
