"""The tf.data pipeline: sources, crops, colour spaces, bad files."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from colorkeras import color, data


def _save(path, mode, size=(40, 30), fmt=None):
    rng = np.random.default_rng(len(str(path)))
    rgb = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(rgb)
    if mode == "L":
        image = image.convert("L")
    elif mode == "RGBA":
        image = image.convert("RGBA")
    elif mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


@pytest.fixture
def photo_folder(tmp_path):
    """A folder of every supported format and mode, nested, with train/val."""
    root = tmp_path / "photos"
    _save(root / "train" / "a.jpg", "RGB")
    _save(root / "train" / "nested" / "b.png", "RGBA")
    _save(root / "train" / "c.png", "P")
    _save(root / "train" / "d.bmp", "RGB")
    _save(root / "train" / "e.gif", "P")
    _save(root / "train" / "f.jpg", "L", size=(9, 7))  # smaller than any crop
    (root / "train" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (root / "train" / "notes.txt").write_text("not an image")
    _save(root / "val" / "g.jpg", "RGB")
    _save(root / "val" / "h.png", "L")
    return root


@pytest.mark.parametrize("space,channels", [("rgb", 3), ("lab", 2), ("yuv", 2)])
def test_sample_pairs_have_model_shapes(space, channels):
    pipeline = data.make_dataset(
        "sample", "train", color_space=space, image_size=48, crop_size=32, batch_size=4, seed=1
    )
    gray, target = next(iter(pipeline.dataset))
    assert gray.shape == (4, 32, 32, 1)
    assert target.shape == (4, 32, 32, channels)
    assert 0.0 <= float(tf.reduce_min(gray)) and float(tf.reduce_max(gray)) <= 1.0
    assert pipeline.num_images >= 30


def test_target_matches_colour_space_encoding():
    pipeline = data.make_dataset(
        "sample", "val", color_space="lab", image_size=32, crop_size=16, batch_size=2
    )
    gray, target = next(iter(pipeline.dataset))
    rebuilt = color.decode_output(gray, target, "lab")
    # The photo's own luminance comes back out of the pair.
    np.testing.assert_allclose(color.luminance(rebuilt), gray, atol=0.03)


def test_validation_is_deterministic_centre_crop():
    pipeline = data.make_dataset("sample", "val", image_size=40, crop_size=16, batch_size=3)
    first = [g.numpy() for g, _ in pipeline.dataset]
    second = [g.numpy() for g, _ in pipeline.dataset]
    assert first[0].shape[1:] == (40, 40, 1)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert sum(len(b) for b in first) == pipeline.num_images


def test_folder_reads_every_format_and_skips_broken(photo_folder):
    with pytest.warns(UserWarning, match="broken.jpg"):
        pipeline = data.make_dataset(
            str(photo_folder), "train", image_size=24, crop_size=16, batch_size=6, seed=0
        )
    assert pipeline.num_images == 6  # broken.jpg and notes.txt are not photos
    gray, target = next(iter(pipeline.dataset))
    assert gray.shape == (6, 16, 16, 1) and target.shape == (6, 16, 16, 3)
    val = data.make_dataset(str(photo_folder), "val", image_size=24, crop_size=16, batch_size=8)
    assert val.num_images == 2
    gray, _ = next(iter(val.dataset))
    assert gray.shape == (2, 24, 24, 1)


def test_plain_folder_is_split_by_name_hash(tmp_path):
    for i in range(30):
        _save(tmp_path / f"img{i:02d}.jpg", "RGB")
    train = data.folder_split_files(str(tmp_path), "train", val_fraction=0.2)
    val = data.folder_split_files(str(tmp_path), "val", val_fraction=0.2)
    assert set(train).isdisjoint(val)
    assert len(train) + len(val) == 30
    assert 1 <= len(val) <= 15


def test_small_images_are_resized_up():
    tiny = tf.zeros([7, 9, 3], tf.uint8)
    assert data.resize_shorter_side(tiny, 32).shape == (32, 41, 3)


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(data.DataError, match="No readable image"):
        data.make_dataset(str(tmp_path), "train")


def test_missing_folder_and_bad_sizes(tmp_path):
    with pytest.raises(data.DataError, match="neither"):
        data.make_dataset(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="crop_size"):
        data.make_dataset("sample", image_size=64, crop_size=128)
    with pytest.raises(ValueError, match="positive"):
        data.make_dataset("sample", image_size=0)
    with pytest.raises(ValueError, match="color_space"):
        data.make_dataset("sample", color_space="hsv")


@pytest.mark.parametrize("name", ["tf_flowers", "oxford_flowers102"])
def test_tfds_sources_with_mock_data(name):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=5):
        train = data.make_dataset(f"tfds:{name}", "train", image_size=48, crop_size=32,
                                  batch_size=2, seed=0)
        gray, target = next(iter(train.dataset))
        val = data.make_dataset(f"tfds:{name}", "val", image_size=48, crop_size=32, batch_size=2)
        val_gray, _ = next(iter(val.dataset))
    # The mock images (about 43x33) are smaller than the crop: resized up, not dropped.
    assert gray.shape == (2, 32, 32, 1) and target.shape == (2, 32, 32, 3)
    assert val_gray.shape == (2, 48, 48, 1)
    assert train.num_images == 5


def test_training_batches_mix_a_name_ordered_folder(tmp_path):
    """A folder is read in name order; a pool's names start with their source.

    With a shuffle buffer smaller than the folder, the first batches held
    only the first source (an epoch of one kind of photo, then the next).
    """
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(tmp_path / "val" / "v.png")
    for index in range(2000):
        source, rgb = ("a-red", (255, 0, 0)) if index < 1000 else ("b-blue", (0, 0, 255))
        Image.new("RGB", (8, 8), rgb).save(tmp_path / "train" / f"{source}-{index:04d}.png")
    pipeline = data.make_dataset(str(tmp_path), "train", color_space="rgb", image_size=8,
                                 crop_size=8, batch_size=64, seed=0)
    _, target = next(iter(pipeline.dataset))
    blue_share = float(np.mean(target.numpy()[:, 0, 0, 2] > 0.5))
    assert 0.25 < blue_share < 0.75, blue_share
