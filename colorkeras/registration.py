"""Make ``import colorkeras`` enough for ``keras.saving.load_model`` on its files.

Keras finds a custom class by its registered name (``colorkeras>Colorizer``)
in a table that the class's module fills when it is imported. Importing every
such module on ``import colorkeras`` would import TensorFlow too, and every
command would take seconds to answer ``--help``. So this module, which
imports nothing heavy, puts a stand-in under each name instead: as soon as
Keras is imported (at once if it already is), each name points at a class
whose ``from_config`` imports the real module and hands over. The real class
replaces its stand-in in the same table when its module is imported, so
everything else Keras does with the name (``get_registered_object``,
serializing) sees the real class.

`REGISTERED` must name every class the package registers; a test compares it
with Keras's table after importing every module.
"""

import importlib
import importlib.abc
import importlib.util
import sys

PACKAGE = "colorkeras"

# Registered name (without the "colorkeras>" prefix) -> the module that registers it.
REGISTERED = {
    "ABClassificationLoss": "colorkeras.ab_classes",
    "AnnealedMean": "colorkeras.ab_classes",
    "ABMAE": "colorkeras.metrics",
    "ColorBleeding": "colorkeras.metrics",
    "ColorCastMagnitude": "colorkeras.metrics",
    "ColorfulnessRatio": "colorkeras.metrics",
    "DeltaE2000": "colorkeras.metrics",
    "Grayishness": "colorkeras.metrics",
    "PSNR": "colorkeras.metrics",
    "SSIM": "colorkeras.metrics",
    "Colorizer": "colorkeras.colorizer",
    "CropLike": "colorkeras.layers",
    "DecodeOutput": "colorkeras.layers",
    "PadToMultiple": "colorkeras.layers",
    "BilinearUpscale": "colorkeras.models.blocks",
    "HintAttention": "colorkeras.models.hint_branch",
    "HintGate": "colorkeras.models.hint_branch",
    "PoolHints": "colorkeras.models.hint_branch",
    "CAE": "colorkeras.models.cae",
    "DCNN": "colorkeras.models.dcnn",
    "DenseNet": "colorkeras.models.densenet",
    "ResNet": "colorkeras.models.resnet",
    "UNet": "colorkeras.models.unet",
    "EfficientNetLite0Backbone": "colorkeras.models.efficientnet_lite",
    "FrozenBatchNormalization": "colorkeras.models.efficientnet_lite",
    "FusedBatchNormalization": "colorkeras.models.batch_norm",
    "DensityVAE": "colorkeras.density",
    "EncoderAwareAdam": "colorkeras.optimizers",
}


def _stand_in(name, module):
    """A class registered as ``colorkeras>name`` until ``module`` registers the real one."""

    def from_config(cls, config):
        importlib.import_module(module)
        # Not get_registered_object: while Keras loads a file it answers from a
        # copy of the table taken before the real class was registered.
        real = sys.modules["keras"].saving.get_custom_objects().get(f"{PACKAGE}>{name}")
        if real is None or real is cls:
            raise ImportError(f"{module} does not register the class {PACKAGE}>{name}")
        return real.from_config(config)

    return type(name, (), {
        "__doc__": f"Stands in for {module}.{name} until that module is imported.",
        "__module__": __name__,
        "from_config": classmethod(from_config),
    })


def register_stand_ins():
    """Put a stand-in under each registered name that has no class yet."""
    table = sys.modules["keras"].saving.get_custom_objects()
    for name, module in REGISTERED.items():
        table.setdefault(f"{PACKAGE}>{name}", _stand_in(name, module))


def _keras_ready():
    keras = sys.modules.get("keras")
    spec = getattr(keras, "__spec__", None)
    return keras is not None and not getattr(spec, "_initializing", False)


class _AfterKeras(importlib.abc.MetaPathFinder):
    """Runs `register_stand_ins` once the module ``keras`` has finished importing."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            register_stand_ins()

        # The loader is Keras's own instance for this one import.
        spec.loader.exec_module = exec_then_register
        return spec


def register_on_keras_import():
    """Register now if Keras is imported, else as soon as it is (idempotent)."""
    if _keras_ready():
        register_stand_ins()
    elif not any(isinstance(finder, _AfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())
