"""Atomic file writes: a reader, a server or a resumed run never sees half a file.

Everything is written to a temporary file beside the target (same folder, so
same file system) and renamed over it only when complete. The temporary name
is unique per writer, since a tuning chief and its workers may write one file
at once, unless the caller fixes it; an interrupted write removes its
temporary file.
"""

import contextlib
import os
import pathlib
import shutil
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def temporary_path(path, partial_name=None):
    """A temporary path beside ``path`` for a writer that wants a name, renamed after.

    For writers that open the file themselves (``keras.Model.save`` needs the
    ``.keras`` suffix, so the temporary name keeps it). ``partial_name`` fixes
    the name instead, for long writes that a killed run may leave behind: the
    next run removes that file first (one writer per target).
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if partial_name:
        tmp = str(path.with_name(partial_name))
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
    else:
        handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix,
                                       dir=path.parent)
        os.close(handle)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


@contextlib.contextmanager
def replacing_folder(path, partial_name=None):
    """A hidden partial folder beside ``path``; on success it replaces ``path``.

    For outputs made of several files (a SavedModel, a shard folder): readers
    such as TF Serving see the old folder or the complete new one, never half.
    ``partial_name`` (default ``.<name>.partial``) must be one those readers
    ignore. A partial folder left by a killed run is cleared first.
    """
    path = pathlib.Path(path)
    partial = path.with_name(partial_name or f".{path.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
        if path.exists():
            shutil.rmtree(path)
        os.replace(partial, path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


@contextlib.contextmanager
def replacing(path, mode="wb", **open_kwargs):
    """Open a temporary file for writing; on success it replaces ``path``.

    Examples:
    ```python
    with atomic.replacing("history.csv", "w", newline="") as f:
        f.write(text)
    ```
    """
    with temporary_path(path) as tmp, open(tmp, mode, **open_kwargs) as stream:
        yield stream


def write_bytes(path, data):
    """Write ``data`` to ``path`` atomically."""
    with replacing(path, "wb") as stream:
        stream.write(data)


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with replacing(path, "w", encoding="utf-8") as stream:
        stream.write(text)
