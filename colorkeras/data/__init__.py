"""tf.data sources and the crop pipeline.

Data flows one way: a source yields decoded uint8 RGB photos, which are resized
so the shorter side is ``image_size`` and cached, then cropped (randomly for
training, centred for validation), batched, and split into the network's gray
input and its target in the chosen colour space.

Three sources share that pipeline:

- ``"sample"``: the photos embedded in the package (``colorkeras/datasets/sample``),
  so every command runs on a fresh machine with no flags;
- a folder of JPEG / PNG / BMP / GIF images, searched recursively; if it holds
  ``train/`` and ``val/`` sub-folders they are the splits, otherwise a stable
  hash of each file name sends about ``val_fraction`` of them to validation;
- ``"tfds:NAME"``: a TensorFlow Datasets name such as ``tfds:tf_flowers`` or
  ``tfds:oxford_flowers102`` (needs the network the first time);
- ``"tfrecord:DIR"``, or a folder holding a shard ``manifest.json``: TFRecord
  shards written by ``python -m colorkeras.data pack`` (`colorkeras.shards`),
  read in parallel and decoded only as training reaches them.
"""

import dataclasses
import hashlib
import logging
import math
import os
import pathlib
import warnings

import tensorflow as tf

from colorkeras import color
from colorkeras.errors import InputError
from colorkeras.images import TENSORFLOW_EXTENSIONS as IMAGE_EXTENSIONS
SAMPLE_DIR = pathlib.Path(__file__).parent.parent / "datasets" / "sample"
SPLITS = ("train", "val", "select")

# TFDS split expressions; tf_flowers ships only a train split.
TFDS_SPLITS = {
    "tf_flowers": {"train": "train[:90%]", "val": "train[90%:]"},
    "oxford_flowers102": {"train": "train+test", "val": "validation"},
}

logger = logging.getLogger(__name__)


class DataError(InputError):
    """A data source that cannot give any image (bad path, empty folder...)."""


@dataclasses.dataclass(frozen=True)
class Source:
    """Where photos come from: ``kind`` is "folder", "tfds" or "tfrecord"."""

    kind: str
    location: str

    @property
    def description(self):
        if self.kind in ("tfds", "tfrecord"):
            return f"{self.kind}:{self.location}"
        return self.location


def parse_source(data):
    """Turn ``"sample"``, a folder, ``"tfds:NAME"`` or ``"tfrecord:DIR"`` into a `Source`."""
    from colorkeras import shards

    data = str(data)
    if data.startswith(shards.PREFIX):
        folder = data[len(shards.PREFIX):]
        if not shards.is_shard_folder(folder):
            raise DataError(f"{folder!r} is not a shard folder (no {shards.MANIFEST}); write "
                            "one with: python -m colorkeras.data pack SRC OUT")
        return Source("tfrecord", folder)
    if data == "sample":
        return Source("folder", str(SAMPLE_DIR))
    if data.startswith("tfds:"):
        name = data[len("tfds:"):]
        if not name:
            raise DataError("A TFDS source needs a name, e.g. tfds:tf_flowers.")
        return Source("tfds", name)
    if not os.path.isdir(data):
        raise DataError(
            f"Data source {data!r} is neither 'sample', 'tfds:NAME' nor an "
            "existing folder."
        )
    if shards.is_shard_folder(data):
        return Source("tfrecord", data)
    return Source("folder", data)


def sample_photos(count, start=0):
    """``count`` embedded sample photos spread over its sources (not the first few).

    The sample is sorted by source, so evenly spaced files show several;
    ``start`` shifts the spacing to pick other ones.
    """
    files = list_image_files(SAMPLE_DIR, recursive=False)
    return files[start:: max(len(files) // count, 1)][:count]


def list_image_files(folder, recursive=True):
    """Sorted paths of the image files under ``folder`` (by extension)."""
    folder = pathlib.Path(folder)
    pattern = "**/*" if recursive else "*"
    return sorted(
        str(p)
        for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def _is_readable(path):
    """Whether Pillow can open and fully decode ``path``."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
        return True
    except Exception:  # noqa: BLE001 - any decoder failure means "skip it"
        return False


def readable_images(paths):
    """Keep the files that decode, warning once per file that does not."""
    kept = []
    for path in paths:
        if _is_readable(path):
            kept.append(path)
        else:
            warnings.warn(f"Skipping unreadable image: {path}", stacklevel=2)
    return kept


def _hash_share(path, salt=""):
    """A stable number in [0, 1] per file name, unmoved by other files."""
    digest = hashlib.sha1((salt + os.path.basename(path)).encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF


def _in_val_split(path, val_fraction):
    """A stable split that does not move when files are added or removed."""
    return _hash_share(path) < val_fraction


def _in_select_split(path, select_fraction):
    """The training photos held out to choose checkpoints on (salted: not the val hash)."""
    return _hash_share(path, salt="select:") < select_fraction


_NOTED_FOLDERS = set()


def _val_files(folder, files, val_fraction):
    """The ``val`` share of a flat folder: the stable hash's, and never none.

    In a small folder the hash can pick no photo at all (12 photos at 10%
    often do); then the one with the lowest hash goes to ``val``, still
    stably, and a note says so once.
    """
    val = {p for p in files if _in_val_split(p, val_fraction)}
    if not val and len(files) > 1 and val_fraction > 0:
        chosen = min(files, key=_hash_share)
        val = {chosen}
        if folder not in _NOTED_FOLDERS:
            _NOTED_FOLDERS.add(folder)
            print(f"Note: the {val_fraction:.0%} hash split of the {len(files)} photos in "
                  f"{folder} picked none for validation; validating on "
                  f"{os.path.basename(chosen)}.", flush=True)
    return val


def folder_split_files(folder, split, val_fraction=0.1, select_fraction=0.0):
    """The readable image files of one split of a folder source.

    ``select`` is ``select_fraction`` of the training photos, chosen by a
    stable hash and then left out of ``train``: checkpoints chosen on it are
    not chosen on the photos ``val`` reports.
    """
    if split not in SPLITS:
        raise InputError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    if split == "select" and not select_fraction > 0:
        raise InputError("The 'select' split needs a positive `select_fraction`. "
                         f"Received: select_fraction={select_fraction!r}")
    if os.path.isdir(os.path.join(folder, "train")) and os.path.isdir(
        os.path.join(folder, "val")
    ):
        paths = list_image_files(os.path.join(folder, "val" if split == "val" else "train"))
    else:
        files = list_image_files(folder)
        val = _val_files(folder, files, val_fraction)
        paths = [p for p in files if (p in val) == (split == "val")]
    if split != "val" and select_fraction > 0:
        paths = [p for p in paths if _in_select_split(p, select_fraction) == (split == "select")]
    paths = readable_images(paths)
    if not paths:
        raise DataError(f"No readable image for the {split!r} split in {folder!r}.")
    return paths


def decode_file(path):
    """Decode one JPEG, PNG, BMP or GIF file to uint8 RGB (first frame)."""
    raw = tf.io.read_file(path)
    image = tf.io.decode_image(raw, channels=3, expand_animations=False)
    return tf.ensure_shape(image, [None, None, 3])


def load_photos(source, split, val_fraction=0.1, select_fraction=0.0, skipped=None):
    """Decoded uint8 RGB photos of one split, and how many there are.

    ``skipped``: a `shards.SkipCounter` that counts the undecodable records
    of a shard source (other sources check their files before).
    """
    if source.kind == "tfrecord":
        from colorkeras import shards

        if select_fraction > 0:
            raise DataError("A 'select' share is taken from folders of photos; pack the "
                            "photos you choose checkpoints on as their own shard folder.")
        return shards.load_split(source.location, split, skipped)
    if source.kind == "tfds" and select_fraction > 0:
        raise DataError("A 'select' share is taken from folders of photos; "
                        f"{source.description} has its own splits.")
    if source.kind == "tfds":
        import tensorflow_datasets as tfds

        splits = TFDS_SPLITS.get(source.location, {"train": "train", "val": "validation"})
        ds = tfds.load(source.location, split=splits[split])
        count = int(ds.cardinality())
        if count < 0:  # unknown length: count once; the photos are cached anyway
            count = int(ds.reduce(0, lambda n, _: n + 1))
        if count == 0:
            raise DataError(f"TFDS split {splits[split]!r} of {source.location!r} is empty.")
        return ds.map(lambda ex: _ensure_rgb(ex["image"])), count
    paths = folder_split_files(source.location, split, val_fraction, select_fraction)
    ds = tf.data.Dataset.from_tensor_slices(paths)
    ds = ds.map(decode_file, num_parallel_calls=tf.data.AUTOTUNE)
    # Pillow accepted these files; a TF decoder that still fails is skipped.
    return ds.ignore_errors(log_warning=True), len(paths)


def _ensure_rgb(image):
    """Gray (1 channel) and RGBA (4) TFDS images become RGB (static channels)."""
    if image.shape[-1] == 1:
        return tf.image.grayscale_to_rgb(image)
    return image[..., :3]


def resize_shorter_side(image, size):
    """Resize so the shorter side is ``size``, up or down, keeping the aspect."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.reduce_min(shape)
    new_shape = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), size)
    return resize_photo(image, new_shape)


def resize_photo(image, shape):
    """A uint8 photo resized to ``shape`` (height, width) by area, as uint8."""
    resized = tf.image.resize(image, shape, method="area", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def to_model_pair(rgb_uint8, color_space):
    """Split a batch of photos into (gray input, target in `color_space`)."""
    rgb = tf.cast(rgb_uint8, tf.float32) / 255.0
    return color.luminance(rgb), color.encode_target(rgb, color_space)


def check_sizes(image_size, crop_size):
    """Validate the two sizes the pipeline is driven by."""
    if image_size <= 0 or crop_size <= 0:
        raise InputError(
            "Sizes must be positive. Received: "
            f"image_size={image_size}, crop_size={crop_size}"
        )
    if crop_size > image_size:
        raise InputError(
            "`crop_size` must not exceed `image_size`. Received: "
            f"crop_size={crop_size}, image_size={image_size}"
        )


@dataclasses.dataclass
class Pipeline:
    """A batched dataset with the counts a training loop needs."""

    dataset: tf.data.Dataset
    num_images: int
    steps: int


def make_dataset(
    data="sample",
    split="train",
    color_space="rgb",
    image_size=256,
    crop_size=128,
    batch_size=16,
    seed=None,
    val_fraction=0.1,
    cache=True,
    shuffle_buffer=None,
    select_fraction=0.0,
):
    """Build the (gray, target) pipeline for one split.

    Training elements are random ``crop_size`` crops with random horizontal
    flips, repeated forever (drive it with ``steps_per_epoch``); validation
    elements are deterministic ``image_size`` centre crops, one pass.

    Args:
        data: "sample", a folder path, or "tfds:NAME".
        split: "train", "val", or "select" (photos held out of train to
            choose checkpoints on; needs ``select_fraction``).
        color_space: "rgb", "lab" or "yuv"; the target is RGB, or the chroma.
        image_size: the shorter side every photo is resized to.
        crop_size: the training crop.
        batch_size: images per batch.
        seed: makes shuffling, crops and flips repeatable.
        val_fraction: share of a plain folder used for validation.
        cache: keep decoded, resized photos in memory after the first epoch.
        shuffle_buffer: photos shuffled at a time; default all of them when
            ``cache`` keeps them in memory (else 1024). A folder is listed in
            name order, and a pool's names often start with their source, so a
            smaller buffer walks through the sources one after another (an
            epoch of faces, then one of forests) and training chases each.
        select_fraction: share of a folder's training photos held out as
            the "select" split (0: none, and "train" keeps them all).

    Returns:
        A `Pipeline` holding the dataset, the number of photos and the
        number of batches in one pass.

    Example:

    >>> pipeline = make_dataset("sample", "val", image_size=64, batch_size=4)
    >>> gray, target = next(iter(pipeline.dataset))
    >>> gray.shape, target.shape
    (TensorShape([4, 64, 64, 1]), TensorShape([4, 64, 64, 3]))
    """
    color.check_color_space(color_space)
    check_sizes(image_size, crop_size)
    if batch_size <= 0:
        raise InputError(f"`batch_size` must be positive. Received: batch_size={batch_size}")
    source = parse_source(data)
    photos, count = load_photos(source, split, val_fraction, select_fraction)
    photos = photos.map(
        lambda img: resize_shorter_side(img, image_size),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if cache:
        photos = photos.cache()
    training = split == "train"
    if training:
        if shuffle_buffer is None:  # all of them when they are in memory anyway
            shuffle_buffer = count if cache else 1024
        buffer = min(shuffle_buffer, count)
        photos = photos.shuffle(max(buffer, 1), seed=seed).repeat()
        options = tf.data.Options()
        options.deterministic = seed is not None
        photos = photos.with_options(options).enumerate()
        crop = _random_crop_fn(crop_size, seed)
    else:
        crop = center_crop_fn(image_size)
    photos = photos.map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    batches = photos.batch(batch_size, drop_remainder=training)
    batches = batches.map(
        lambda rgb: to_model_pair(rgb, color_space),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    steps = max(count // batch_size, 1) if training else math.ceil(count / batch_size)
    return Pipeline(batches.prefetch(tf.data.AUTOTUNE), count, steps)


def _random_crop_fn(crop_size, seed):
    """Crop and flip ``(index, image)`` elements.

    With a seed, each element's crop and flip come from stateless ops keyed
    by (seed, element index): the same seed gives the same crops however the
    parallel map schedules them, and another seed (a resumed run's) new ones.
    """
    def crop(index, image):
        if seed is None:
            image = tf.image.random_crop(image, [crop_size, crop_size, 3])
            return tf.image.random_flip_left_right(image)
        key = tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)])
        image = tf.image.stateless_random_crop(image, [crop_size, crop_size, 3], seed=key)
        return tf.image.stateless_random_flip_left_right(image, seed=key + [0, 1 << 40])

    return crop


def center_crop_fn(size):
    """The validation crop: the centre `size` square of a resized photo."""
    def crop(image):
        return tf.image.resize_with_crop_or_pad(image, size, size)

    return crop
