"""TFRecord shards: pack a source, train from it, skip and count damaged records."""

import importlib
import json

import pytest
import tensorflow as tf

from colorkeras import cli, data, shards

command = importlib.import_module("colorkeras.data.__main__")


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    out = tmp_path_factory.mktemp("shards") / "sample"
    manifest = shards.pack("sample", out, shards=3, image_size=96, progress=False)
    return out, manifest


def test_pack_writes_every_photo_of_each_split_once(packed):
    out, manifest = packed
    assert json.loads((out / "manifest.json").read_text()) == manifest
    for split in ("train", "val"):
        expected = len(data.folder_split_files(str(data.SAMPLE_DIR), split))
        entry = manifest["splits"][split]
        assert entry["count"] == expected
        assert entry["files"] == [f"{split}-{i:05d}-of-00003.tfrecord" for i in range(3)]
        names = [tf.train.Example.FromString(r.numpy()).features.feature["name"]
                 .bytes_list.value[0].decode()
                 for f in entry["files"] for r in tf.data.TFRecordDataset(str(out / f))]
        assert len(names) == len(set(names)) == expected
    photos, count = data.load_photos(data.parse_source(f"tfrecord:{out}"), "val")
    shapes = [tuple(p.shape) for p in photos]
    assert len(shapes) == count and all(min(s[:2]) <= 96 and s[2] == 3 for s in shapes)


def test_training_pipeline_reads_shards_by_prefix_or_folder(packed):
    out, manifest = packed
    for spec in (f"tfrecord:{out}", str(out)):
        pipeline = data.make_dataset(spec, "train", color_space="lab", image_size=64,
                                     crop_size=32, batch_size=4, seed=0)
        gray, target = next(iter(pipeline.dataset))
        assert gray.shape == (4, 32, 32, 1) and target.shape == (4, 32, 32, 2)
        assert pipeline.num_images == manifest["splits"]["train"]["count"]


def test_damaged_records_are_skipped_and_counted(packed, tmp_path):
    out, manifest = packed
    copy = tmp_path / "damaged"
    copy.mkdir()
    for item in out.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    first = copy / manifest["splits"]["val"]["files"][0]
    with tf.io.TFRecordWriter(str(first)) as writer:  # rewrite: good records + 2 bad ones
        for record in tf.data.TFRecordDataset(str(out / first.name)):
            writer.write(record.numpy())
        writer.write(shards._example(b"\xff\xd8 not a JPEG at all", "broken.jpg"))
        writer.write(b"not even an Example")
    counter = shards.SkipCounter()
    photos, _ = data.load_photos(data.parse_source(str(copy)), "val", skipped=counter)
    assert sum(1 for _ in photos) == manifest["splits"]["val"]["count"]
    assert counter.count == 2


def test_pack_refuses_to_replace_and_bad_sources(packed, tmp_path, capsys):
    out, manifest = packed
    before = (out / "manifest.json").read_text()
    with pytest.raises(SystemExit) as info:
        cli.run(command.main, ["pack", "sample", str(out), "--quiet"])
    assert info.value.code == 2 and "exists" in capsys.readouterr().err
    assert (out / "manifest.json").read_text() == before
    with pytest.raises(data.DataError, match="not a shard folder"):
        data.parse_source(f"tfrecord:{tmp_path}")
    with pytest.raises(data.DataError, match="select"):
        data.load_photos(data.parse_source(str(out)), "train", select_fraction=0.1)


def test_pack_tfds_offline_with_mock_data(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        manifest = shards.pack("tfds:tf_flowers", tmp_path / "flowers", shards=2,
                               image_size=32, progress=False)
        source = data.parse_source("tfds:tf_flowers")
        expected = {split: data.load_photos(source, split)[1] for split in ("train", "val")}
    assert manifest["source"] == "tfds:tf_flowers"
    assert {s: e["count"] for s, e in manifest["splits"].items()} == expected
    assert all(count > 0 for count in expected.values())
    photos, _ = data.load_photos(data.parse_source(str(tmp_path / "flowers")), "train")
    assert sum(1 for _ in photos) == manifest["splits"]["train"]["count"]
