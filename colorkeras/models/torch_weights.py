"""Read PyTorch's legacy (pre-1.6, non-zip) ``.pth`` files with numpy alone.

Pretrained ImageNet weights reach this machine only inside registry packages,
and the one that fits ships a legacy PyTorch checkpoint. Installing torch to
read 19 MB of numbers would add a gigabyte of dependencies, so this module
reads the format directly:

1. a pickle of the magic number, one of the protocol version, one of system
   info (byte order, sizes);
2. the pickled object (here an ``OrderedDict`` of tensors), where each tensor
   is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``
   and each storage a persistent id ``("storage", type, key, device, numel)``;
3. a pickled list of the storage keys, then, in that order, each storage as
   an int64 element count followed by its raw little-endian bytes.

Tensors are views: their strides are honoured (conv kernels in these files
are not contiguous), and the result is a contiguous copy.
"""

import pickle
import struct

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
"""The first pickle of every legacy PyTorch file."""

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class TorchFormatError(ValueError):
    """The file is not a legacy PyTorch checkpoint this reader understands."""


class _StorageType:
    def __init__(self, name):
        if name not in _STORAGE_DTYPES:
            raise TorchFormatError(f"Unsupported tensor storage type: torch.{name}")
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    """A storage's place holder until its bytes, which follow the pickle, are read."""

    def __init__(self, dtype, numel):
        self.dtype = dtype
        self.numel = numel
        self.array = None


class _TensorView:
    """A tensor as (storage, offset, size, stride), resolved after the storages."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(size), tuple(stride)

    def resolve(self):
        flat = self.storage.array
        itemsize = flat.dtype.itemsize
        if self.size and self.offset + sum(
            (n - 1) * s for n, s in zip(self.size, self.stride)
        ) >= flat.size:
            raise TorchFormatError("A tensor reaches past the end of its storage.")
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:],
            shape=self.size,
            strides=tuple(s * itemsize for s in self.stride),
            writeable=False,
        )
        return np.array(view, order="C")  # a contiguous, writeable copy


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *unused):
    return _TensorView(storage, storage_offset, size, stride)


class _Unpickler(pickle.Unpickler):
    """Builds placeholders for torch's classes; refuses every other global."""

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            import collections

            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor_v2
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        raise TorchFormatError(f"Refusing to load the global {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise TorchFormatError(f"Unknown persistent id: {pid!r}")
        _, storage_type, key, _location, numel = pid[:5]
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype, int(numel))
        return self.storages[key]


def read_legacy_state_dict(path):
    """The tensors of a legacy ``.pth`` state dict, as ``{name: numpy array}``.

    Args:
        path: a file saved by ``torch.save`` with
            ``_use_new_zipfile_serialization=False`` (or by PyTorch < 1.6).

    Raises:
        TorchFormatError: the file is a zip-format checkpoint or not a
            PyTorch file at all.
    """
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(b"PK"):
            raise TorchFormatError(
                f"{path} is a zip-format PyTorch checkpoint; this reader takes the "
                "legacy format only."
            )
        f.seek(0)
        try:
            magic = pickle.load(f)
        except Exception as error:  # noqa: BLE001 - any failure means "not this format"
            raise TorchFormatError(f"{path} is not a legacy PyTorch file: {error}") from None
        if magic != MAGIC_NUMBER:
            raise TorchFormatError(f"{path} is not a legacy PyTorch file (bad magic number).")
        pickle.load(f)  # protocol version
        sys_info = pickle.load(f)
        if not sys_info.get("little_endian", True):
            raise TorchFormatError(f"{path} was saved big-endian, which is not supported.")
        storages = {}
        state = _Unpickler(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            storage = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            raw = f.read(numel * storage.dtype.itemsize)
            if len(raw) != numel * storage.dtype.itemsize:
                raise TorchFormatError(f"{path} is truncated.")
            storage.array = np.frombuffer(raw, dtype=storage.dtype)
    missing = [k for k, s in storages.items() if s.array is None]
    if missing:
        raise TorchFormatError(f"{path} lacks the data of {len(missing)} storages.")
    return {
        name: value.resolve() if isinstance(value, _TensorView) else value
        for name, value in state.items()
    }
