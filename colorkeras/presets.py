"""Presets: model folders that say what they hold, as keras-hub's do.

A preset is a folder holding a colorizer's ``.keras`` file (``<folder>.keras``,
or ``model.keras`` in a training run) and a ``metadata.json`` that says what it
is: a one-line description, its parameter count, the colour space it predicts,
what it was trained on, under which licence it may be used, and its model card
(a file in the folder, or null). Each shipped model is one
(``exported_models/<name>/``), and so are the folders a user makes: a training
run's (``colorkeras train`` writes the metadata as it starts) and the base
folder ``colorkeras export`` writes a SavedModel into.

`colorkeras.Colorizer.from_preset` loads one by name or folder and
`colorkeras.Colorizer.presets` lists the named ones; `colorkeras.load` is the
short form. Named presets are found as ``exported_models/<name>/<name>.keras``
in ``$COLORKERAS_HOME`` (searched first), in the installed package, and in a
source checkout. This module imports no TensorFlow, so commands can check a
name before it starts.
"""

import json
import os
import pathlib

from colorkeras import __version__, atomic
from colorkeras.errors import InputError

HOME_VARIABLE = "COLORKERAS_HOME"
MODELS_FOLDER = "exported_models"
METADATA_FILE = "metadata.json"
CARD_FILE = "README.md"
FIELDS = ("description", "parameters", "color_space", "training_data", "license", "card")
"""What every preset's metadata says (null where a folder cannot know it)."""

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


# --- finding presets ------------------------------------------------------------


def model_dirs():
    """Folders searched for ``<name>/<name>.keras``, in order.

    ``$COLORKERAS_HOME/exported_models`` first (your own models, or models
    kept outside the package), then the models installed with the package
    (``pip install .`` puts them in ``colorkeras/exported_models``), then the
    top-level ``exported_models/`` of a source checkout (``pip install -e .``).
    """
    dirs = []
    home = os.environ.get(HOME_VARIABLE)
    if home:
        dirs.append(pathlib.Path(home).expanduser() / MODELS_FOLDER)
    dirs.append(_PACKAGE_DIR / MODELS_FOLDER)
    checkout = _PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        dirs.append(checkout / MODELS_FOLDER)
    return dirs


def available_models():
    """Names that `resolve` finds, sorted."""
    return sorted(
        {
            entry.name
            for folder in model_dirs()
            if folder.is_dir()
            for entry in folder.iterdir()
            if (entry / f"{entry.name}.keras").is_file()
        }
    )


def looks_like_path(text):
    return text.endswith(".keras") or os.sep in text or "/" in text


def model_file(folder):
    """The ``.keras`` file of a preset folder: ``model.keras`` (a run) or ``<folder>.keras``.

    Raises:
        FileNotFoundError: the folder holds neither.
    """
    folder = pathlib.Path(folder)
    for candidate in (folder / "model.keras", folder / f"{folder.name}.keras"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"No model.keras or {folder.name}.keras in folder {str(folder)!r}")


def resolve(name_or_path):
    """The ``.keras`` file a preset name, a preset folder or a ``.keras`` path stands for.

    A path is anything ending in ``.keras`` or holding a slash, or an
    existing folder; anything else is a name.

    Raises:
        FileNotFoundError: a path that does not exist.
        ValueError: an unknown name; the message lists the known ones.
    """
    try:
        text = os.fspath(name_or_path)
    except TypeError:
        text = None
    if not isinstance(text, str) or not text:
        raise InputError(
            f"Expected a model name or a .keras path. Received: {name_or_path!r}"
        )
    if looks_like_path(text) or os.path.isdir(text):
        path = pathlib.Path(text).expanduser()
        if path.is_dir():
            return model_file(path)
        if not path.is_file():
            raise FileNotFoundError(f"No such model file: {text!r}")
        return path
    for folder in model_dirs():
        path = folder / text / f"{text}.keras"
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in model_dirs())
    raise InputError(
        f"Unknown model {text!r}. Available models: {available_models()} "
        f"(searched {searched}; set {HOME_VARIABLE} to add a folder, or pass a "
        f".keras path). Received: name_or_path={text!r}"
    )


# --- metadata ---------------------------------------------------------------------


def metadata(name_or_dir):
    """What a preset says about itself: `FIELDS`, its ``name`` and ``folder``.

    From its ``metadata.json``. A folder without one (a run from before
    presets) says what its ``config.json`` records, and null for the rest.
    """
    folder = resolve(name_or_dir).parent
    path = folder / METADATA_FILE
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
        except ValueError as error:
            raise InputError(f"{path}: not JSON ({error})") from None
    else:
        stored = _from_run_config(folder)
    missing = [field for field in FIELDS if field not in stored]
    if missing:
        raise InputError(f"{path}: a preset's metadata needs {list(FIELDS)}; "
                         f"missing {missing}")
    return {"name": stored.get("name", folder.name), **stored, "folder": str(folder)}


def _from_run_config(folder):
    config = {}
    if (folder / "config.json").is_file():
        config = json.loads((folder / "config.json").read_text())
    return {"description": None, "parameters": config.get("parameters"),
            "color_space": config.get("color_space"),
            "training_data": config.get("data"), "license": None,
            "card": CARD_FILE if (folder / CARD_FILE).is_file() else None}


def list_presets():
    """``{name: metadata}`` of every named preset (see `available_models`)."""
    return {name: metadata(name) for name in available_models()}


def describe(colorizer, name, description, training_data, license=None, card=None):
    """The metadata of preset ``name`` holding ``colorizer``: counted and read off the model."""
    return {
        "name": name,
        "description": description,
        "parameters": int(colorizer.network.count_params()),
        "color_space": colorizer.color_space,
        "training_data": training_data,
        "license": license,
        "card": card,
        "colorkeras_version": __version__,
    }


def write_metadata(folder, values):
    """Write ``values`` (see `describe`) as ``<folder>/metadata.json``, atomically."""
    missing = [field for field in FIELDS if field not in values]
    if missing:
        raise InputError(f"A preset's metadata needs {list(FIELDS)}. Missing: {missing}")
    path = pathlib.Path(folder) / METADATA_FILE
    atomic.write_text(path, json.dumps(values, indent=2, ensure_ascii=False) + "\n")
    return path
