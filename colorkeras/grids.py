"""Search grids: TOML files that list the values to try for each setting.

``tuning/<model>.toml`` holds a ``[quick]`` and a ``[full]`` table; every key
is a list of values, and the grid is every combination of them::

    [quick]
    depth = [3, 4]            # U-Net down-samplings
    loss = ["mae", "huber"]   # pixel loss on the target

A key is one of

- an architecture hyperparameter, from `colorkeras.models.hparams_of`
  (for ``pix2pix``, those of its generator);
- a training setting: ``loss``, ``learning_rate``, ``color_space``,
  ``batch_size``, ``epochs``;
- for ``pix2pix`` only: ``lambda``, ``gan_loss``, ``d_learning_rate``,
  ``generator``, and ``d_<name>`` for any PatchGAN hyperparameter
  (``d_num_layers``, ``d_base_filters``, ...).

Grids are checked in full before anything trains: an unknown key, an empty
list, a value of the wrong type or out of its range is a ``ValueError`` that
names the file, the table and the key.
"""

import dataclasses
import math
import os
import pathlib

from colorkeras.errors import InputError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

GRID_NAMES = ("quick", "full")
# Where ``<model>.toml`` is looked for: ``tuning/`` of a source checkout (or
# an editable install), ``grid_files/`` inside an installed package that
# ships them there, then ``./tuning``.
PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
GRID_DIRS = (PACKAGE_DIR.parent / "tuning", PACKAGE_DIR / "grid_files", pathlib.Path("tuning"))

# Grid key -> TrainConfig field, for the settings that are not hyperparameters
# of the network builders.
TRAINING_KEYS = {
    "loss": "loss",
    "learning_rate": "learning_rate",
    "color_space": "color_space",
    "batch_size": "batch_size",
    "epochs": "epochs",
    "class_rebalance": "class_rebalance",
    "freeze_encoder_epochs": "freeze_encoder_epochs",
    "encoder_lr_scale": "encoder_lr_scale",
}
PIX2PIX_KEYS = {
    "lambda": "lambda_",
    "gan_loss": "gan_loss",
    "d_learning_rate": "d_learning_rate",
    "generator": "generator",
}
DISCRIMINATOR_PREFIX = "d_"


@dataclasses.dataclass
class Grid:
    """The values to try for one architecture, and where they came from."""

    model: str
    values: dict  # key -> list of values, in file order
    source: str  # "path [table]", for messages and the summary

    @property
    def size(self):
        """How many trials the whole grid is."""
        return math.prod(len(v) for v in self.values.values())


def grid_path(model, directory=None):
    """The shipped grid file of ``model``, from the first of `GRID_DIRS` that has it."""
    folders = [pathlib.Path(directory)] if directory else []
    for folder in [*folders, *GRID_DIRS]:
        if (folder / f"{model}.toml").is_file():
            return folder / f"{model}.toml"
    raise FileNotFoundError(
        f"No grid file {model}.toml in {', '.join(str(f) for f in GRID_DIRS)}; "
        "pass --grid PATH to a TOML grid"
    )


def display_path(path):
    """``path`` relative to the working folder when inside it (for summaries)."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


def read_toml(path):
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as error:
            raise InputError(f"{display_path(path)}: not valid TOML: {error}") from None


def split_spec(spec):
    """``"quick"`` / ``"full"`` / ``"PATH"`` / ``"PATH:TABLE"`` -> (path or None, table)."""
    if spec in GRID_NAMES:
        return None, spec
    if os.path.exists(spec):
        return pathlib.Path(spec), None
    path, sep, table = str(spec).rpartition(":")
    if sep and path and os.path.exists(path):
        return pathlib.Path(path), table
    raise FileNotFoundError(
        f"--grid takes 'quick', 'full', a TOML file or FILE:TABLE. Received: grid={spec!r}"
    )


def pick_table(document, path, table):
    """The table of ``document`` to use, or the document itself when flat."""
    tables = [k for k, v in document.items() if isinstance(v, dict)]
    if table is not None:
        if table not in tables:
            raise InputError(
                f"{path}: no table [{table}]; it has {tables or 'no tables'}. "
                f"Received: table={table!r}"
            )
        return document[table], f"{path} [{table}]"
    if not tables:
        return document, str(path)
    if len(tables) == 1 and len(document) == 1:
        return document[tables[0]], f"{path} [{tables[0]}]"
    raise InputError(f"{path} holds several tables {tables}; pick one with --grid {path}:TABLE")


def load_grid(model, spec="quick", directory=None):
    """Read and check the grid for ``model``.

    Args:
        model: an architecture from `colorkeras.models.list_models`.
        spec: "quick" or "full" (the tables of ``tuning/<model>.toml``), a
            TOML file that is flat or has a single table, or "FILE:TABLE".
        directory: where to look for ``<model>.toml`` first.

    Returns:
        A checked `Grid`.

    Examples:
    ```python
    grid = load_grid("unet", "quick")
    grid.values["loss"]  # ["mae", "huber"]
    ```
    """
    path, table = split_spec(spec)
    if path is None:
        path = grid_path(model, directory)
    values, source = pick_table(read_toml(path), display_path(path), table)
    return Grid(model, check_grid(model, values, source), source)


def key_defaults(model, generators=("unet",)):
    """Every key a grid for ``model`` may hold, with the default it is typed by."""
    from colorkeras.models import hparams_of
    from colorkeras.models import patchgan
    from colorkeras.training_config import TrainConfig

    config = TrainConfig()
    keys = {key: getattr(config, field) for key, field in TRAINING_KEYS.items()}
    # Typed as a count (0 is only its type: a grid searches epoch counts). A trial
    # without the key takes the run's default (`resolve_defaults`: "all", 0 for Pix2Pix).
    keys["freeze_encoder_epochs"] = 0
    if model != "pix2pix":
        return {**hparams_of(model), **keys}
    # Only hyperparameters every listed generator accepts.
    shared = None
    for generator in generators:
        hparams = hparams_of(generator)
        shared = hparams if shared is None else {k: v for k, v in shared.items() if k in hparams}
    discriminator = {DISCRIMINATOR_PREFIX + k: v for k, v in patchgan.HPARAMS.items()}
    pix2pix = {key: getattr(config, field) for key, field in PIX2PIX_KEYS.items()}
    return {**shared, **keys, **pix2pix, **discriminator}


TYPE_NAMES = {bool: "true/false", int: "integer", float: "number", str: "string"}


def _check_value(where, key, value, kind):
    """``value`` as a ``kind``; ValueError if it is not one (bool is no int)."""
    if kind is float and type(value) is int:  # TOML `lambda = [10]` means 10.0
        value = float(value)
    if type(value) is not kind or kind not in TYPE_NAMES:
        raise InputError(
            f"{where}: key {key!r} takes {TYPE_NAMES.get(kind, kind.__name__)} values. "
            f"Received: {key}={value!r}"
        )
    return value


def _block_checks():
    """The builders' own checks of the per-block settings, by key."""
    from colorkeras.models import blocks

    return {
        "activation": blocks.check_activation,
        "kernel_size": blocks.check_kernel_size,
        "dropout": blocks.check_rate,
        "upsampling": lambda k, v: blocks.check_choice(k, v, blocks.UPSAMPLING_MODES),
        "downsampling": lambda k, v: blocks.check_choice(k, v, blocks.DOWNSAMPLING_MODES),
    }


def _check_range(where, key, values):
    """Choices and signs the builders would only reject once training."""
    from colorkeras.color import COLOR_SPACES
    from colorkeras.losses import LOSSES
    from colorkeras.models import list_models
    from colorkeras.pix2pix import GAN_LOSSES

    check = _block_checks().get(key)
    for value in values if check else ():
        try:
            check(key, value)
        except ValueError as error:
            raise InputError(f"{where}: key {key!r}: {error}") from None

    from colorkeras.models import unet

    choices = {
        "backbone": unet.BACKBONES,
        "encoder_weights": unet.ENCODER_WEIGHTS,
        "output_stride": unet.OUTPUT_STRIDES,
        "loss": (*LOSSES, "classification"),
        "color_space": COLOR_SPACES,
        "gan_loss": GAN_LOSSES,
        "generator": [m for m in list_models() if m != "pix2pix"],
    }
    # Positive as `python -m colorkeras.train` wants them, so the best trial's
    # command line runs.
    positive = ("learning_rate", "d_learning_rate", "batch_size", "epochs", "lambda")
    for value in values:
        if key in choices and value not in choices[key]:
            raise InputError(
                f"{where}: key {key!r} takes one of {list(choices[key])}. "
                f"Received: {key}={value!r}"
            )
        if key in positive and value <= 0:
            raise InputError(f"{where}: key {key!r} must be positive. Received: {key}={value!r}")


def check_grid(model, table, where):
    """Check a grid table for ``model``; return it with values typed.

    Raises:
        ValueError: naming ``where`` (file and table) and the key at fault.
    """
    from colorkeras.models import list_models

    if model not in list_models():
        raise InputError(
            f"Unknown model. Available models: {list_models()}. Received: model={model!r}"
        )
    if not table:
        raise InputError(f"{where}: the grid is empty; list at least one key")
    generators = table.get("generator") if model == "pix2pix" else None
    if isinstance(generators, list) and generators and all(isinstance(g, str) for g in generators):
        _check_range(where, "generator", generators)
    else:  # none, or a bad list that is reported below with the other keys
        generators = ["unet"]
    allowed = key_defaults(model, generators)
    checked = {}
    for key, values in table.items():
        if key not in allowed:
            raise InputError(
                f"{where}: unknown key {key!r} for model {model!r}; accepted keys: "
                f"{sorted(allowed)}. Received: {key}={values!r}"
            )
        if not isinstance(values, list):
            raise InputError(
                f"{where}: key {key!r} takes a list of values, e.g. {key} = [{values!r}]. "
                f"Received: {key}={values!r}"
            )
        if not values:
            raise InputError(f"{where}: key {key!r} has an empty list. Received: {key}=[]")
        default = allowed[key]
        kind = type(default) if default is not None else type(values[0])
        typed = [_check_value(where, key, v, kind) for v in values]
        if len(set(typed)) != len(typed):
            raise InputError(
                f"{where}: key {key!r} lists a value twice. Received: {key}={values!r}"
            )
        _check_range(where, key, typed)
        checked[key] = typed
    return checked
