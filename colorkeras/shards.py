"""TFRecord shards of a photo collection: packed once, read by many workers in parallel.

    python -m colorkeras.data pack ~/photos runs/photos-shards --shards 16
    python -m colorkeras.train --data tfrecord:runs/photos-shards ...

Loose files are fine for a few thousand photos; a large collection (ImageNet,
an archive) trains faster from a few big files read in parallel, each worker
of a cluster reading its own subset (tf.data auto-sharding by file). A shard
folder holds ``<split>-NNNNN-of-MMMMM.tfrecord`` files of JPEG-encoded photos,
resized so that the shorter side is at most ``image_size``, and a
``manifest.json`` with the source, the sizes and each split's files and count.

Reading never decodes the collection ahead of training: photos are decoded as
the pipeline reaches them, and a record that does not decode is skipped and
counted (`SkipCounter`).
"""

import json
import os
import pathlib

import tensorflow as tf

from colorkeras import terminal
from colorkeras.errors import InputError

MANIFEST = "manifest.json"
FORMAT = "colorkeras-shards/1"
PREFIX = "tfrecord:"
SPLITS = ("train", "val")


class ShardError(InputError):
    """A shard folder that cannot be read, or a pack request that cannot be met."""


def shard_name(split, index, count):
    return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def is_shard_folder(path):
    """Whether ``path`` is a folder written by `pack` (it has the manifest)."""
    return os.path.isfile(os.path.join(str(path), MANIFEST))


def read_manifest(folder):
    path = os.path.join(str(folder), MANIFEST)
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as error:
        raise ShardError(f"Cannot read the shard manifest {path}: {error}") from None
    if manifest.get("format") != FORMAT:
        raise ShardError(f"{path} is not a colorkeras shard manifest ({FORMAT})")
    return manifest


def _example(jpeg, name):
    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[jpeg])),
        "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[name.encode()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _shrink(image, image_size):
    """Resize down so the shorter side is at most ``image_size`` (never up)."""
    from colorkeras import data

    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.minimum(1.0, float(image_size) / tf.reduce_min(shape))
    size = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), 1)
    return data.resize_photo(image, size)


def _split_photos(source, split, val_fraction):
    """(name, uint8 RGB) pairs of one split of a `data.Source`, and their count."""
    from colorkeras import data

    if source.kind == "tfds":
        photos, count = data.load_photos(source, split)
        return ((f"{split}-{i:08d}", image) for i, image in enumerate(photos)), count
    paths = data.folder_split_files(source.location, split, val_fraction)
    base = pathlib.Path(source.location)

    def generate():
        for path in paths:
            yield str(pathlib.Path(path).relative_to(base)), data.decode_file(path)

    return generate(), len(paths)


def pack(data_arg, out, shards=8, image_size=512, quality=92, val_fraction=0.1,
         overwrite=False, progress=True):
    """Write the photos of ``data_arg`` as TFRecord shards in ``out``.

    Args:
        data_arg: "sample", a folder (with train/ and val/, or split by a
            stable hash of each name), or "tfds:NAME".
        out: the shard folder to write (must not exist, unless ``overwrite``).
        shards: files per split (fewer if a split has fewer photos); make it
            at least the number of workers that will read them.
        image_size: the largest shorter side kept (photos are never enlarged).
        quality: JPEG quality of the stored photos.
        val_fraction: for a plain folder, the share that goes to val.
        overwrite: replace an existing ``out``.
        progress: a progress bar per split.

    Returns:
        The manifest (also written as ``out/manifest.json``).
    """
    import keras

    from colorkeras import atomic, data

    if shards < 1:
        raise ShardError(f"`shards` must be positive. Received: shards={shards}")
    out = pathlib.Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite or choose another folder")
    source = data.parse_source(data_arg)
    manifest = {"format": FORMAT, "source": source.description, "image_size": image_size,
                "jpeg_quality": quality, "splits": {}}
    with atomic.replacing_folder(out) as partial:
        for split in SPLITS:
            photos, count = _split_photos(source, split, val_fraction)
            files = min(shards, max(count, 1))
            names = [shard_name(split, i, files) for i in range(files)]
            writers = [tf.io.TFRecordWriter(str(partial / n)) for n in names]
            bar = keras.utils.Progbar(count, unit_name=f"{split} photo",
                                      verbose=terminal.progress_verbosity()) if progress else None
            written = 0
            try:
                for index, (name, image) in enumerate(photos):
                    jpeg = tf.io.encode_jpeg(_shrink(image, image_size), quality=quality)
                    writers[index % files].write(_example(jpeg.numpy(), name))
                    written += 1
                    if bar:
                        bar.update(written)
            finally:
                for writer in writers:
                    writer.close()
            manifest["splits"][split] = {"files": names, "count": written}
        atomic.write_text(partial / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


class SkipCounter:
    """Counts the records a pipeline read and the photos it decoded from them.

    ``count`` (read minus decoded) is the number skipped: records that do not
    parse, are not a JPEG, or do not decode. Exact once a pass has ended; in
    the middle of one, a few records may be between the two counts.
    """

    def __init__(self):
        self.read = tf.Variable(0, dtype=tf.int64, trainable=False, name="records_read")
        self.decoded = tf.Variable(0, dtype=tf.int64, trainable=False, name="photos_decoded")

    @property
    def count(self):
        return int(self.read.numpy() - self.decoded.numpy())


def load_split(folder, split, skipped=None):
    """Decoded uint8 RGB photos of one split of a shard folder, and their count.

    Files are interleaved, and with a distribution strategy each worker
    reads its own files (auto-sharding by file). A record that does not
    decode, or the rest of a damaged file, is skipped; ``skipped`` (a
    `SkipCounter`) counts them.
    """
    manifest = read_manifest(folder)
    if split not in manifest["splits"]:
        raise ShardError(f"{folder} has no {split!r} split (it has {list(manifest['splits'])})")
    entry = manifest["splits"][split]
    paths = [os.path.join(str(folder), name) for name in entry["files"]]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise ShardError(f"Shard files listed in the manifest are missing: {missing[:3]}")
    if not entry["count"]:
        raise ShardError(f"The {split!r} split of {folder} is empty")
    files = tf.data.Dataset.from_tensor_slices(paths)
    records = files.interleave(
        lambda path: tf.data.TFRecordDataset(path).ignore_errors(),  # a damaged file ends early
        cycle_length=min(len(paths), 8), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.FILE)
    records = records.with_options(options)

    def count(variable):
        def step(value):
            variable.assign_add(1)
            return value
        return step

    def decode(record):
        jpeg = tf.io.parse_single_example(
            record, {"image": tf.io.FixedLenFeature([], tf.string)})["image"]
        image = tf.io.decode_jpeg(jpeg, channels=3)
        return tf.ensure_shape(image, [None, None, 3])

    if skipped is not None:
        records = records.map(count(skipped.read))
    photos = records.map(decode, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
    if skipped is not None:
        photos = photos.map(count(skipped.decoded))
    return photos, entry["count"]
