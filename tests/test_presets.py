"""Presets: each shipped model says what it is, and the folders users make load the same way."""

import json
import shutil

import numpy as np
import pytest

import colorkeras
from colorkeras import export, presets
from colorkeras.colorizer import Colorizer

SHIPPED = ["cae", "dcnn", "densenet", "pix2pix", "resnet", "unet", "unet-hints"]


def test_each_shipped_model_carries_its_metadata_and_card():
    listed = Colorizer.presets
    assert sorted(listed) == SHIPPED
    for name, values in listed.items():
        assert set(presets.FIELDS) <= set(values), name
        assert values["name"] == name
        assert values["description"] and values["training_data"] and values["license"]
        assert values["color_space"] in ("lab", "yuv", "rgb")
        card = presets.resolve(name).parent / values["card"]
        assert card.is_file() and card.read_text().startswith(f"# `{name}`")


@pytest.mark.parametrize("name", ["dcnn", "unet"])
def test_the_metadata_says_what_the_file_holds(name):
    colorizer = Colorizer.from_preset(name)
    values = Colorizer.presets[name]
    assert values["parameters"] == colorizer.network.count_params()
    assert values["color_space"] == colorizer.color_space


def test_from_preset_takes_a_name_or_a_folder_and_load_is_its_short_form(tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(presets.resolve("dcnn").parent, folder, ignore=shutil.ignore_patterns("1"))
    (folder / "dcnn.keras").rename(folder / "mine.keras")
    gray = np.random.default_rng(0).random((1, 24, 40, 1), dtype=np.float32)
    by_name = Colorizer.from_preset("dcnn").rgb(gray)
    np.testing.assert_array_equal(Colorizer.from_preset(folder).rgb(gray), by_name)
    np.testing.assert_array_equal(colorkeras.load("dcnn").rgb(gray), by_name)
    assert presets.metadata(folder)["description"] == Colorizer.presets["dcnn"]["description"]
    with pytest.raises(ValueError, match="Available models"):
        Colorizer.from_preset("no-such-model")
    with pytest.raises(ValueError, match="colorkeras.load"):
        Colorizer.from_preset(folder / "mine.keras")
    (folder / presets.METADATA_FILE).write_text(json.dumps({"description": "x"}))
    with pytest.raises(ValueError, match="missing"):
        presets.metadata(folder)


def test_a_training_run_is_a_preset(trained_run):
    run = trained_run.out
    values = presets.metadata(run)
    config = json.loads((run / "config.json").read_text())
    assert values["color_space"] == config["color_space"] == "lab"
    assert values["parameters"] == config["parameters"]
    assert "trained by colorkeras train" in values["description"]
    assert Colorizer.from_preset(run).network.count_params() == values["parameters"]


def test_an_export_folder_is_a_preset(tmp_path, tiny_network):
    source = tmp_path / "src"
    source.mkdir()
    shutil.copyfile(tiny_network, source / "tiny.keras")
    base = tmp_path / "served" / "tiny"
    export.export(source / "tiny.keras", base, render_size=16)
    assert sorted(p.name for p in base.iterdir()) == ["1", "metadata.json", "tiny.keras"]
    colorizer = Colorizer.from_preset(base)
    gray = np.random.default_rng(1).random((1, 16, 16, 1), dtype=np.float32)
    np.testing.assert_allclose(colorizer.rgb(gray), colorkeras.load(source / "tiny.keras").rgb(
        gray), atol=1e-6)
    assert presets.metadata(base)["parameters"] == colorizer.network.count_params()
    stamp = (base / "tiny.keras").stat().st_mtime_ns
    export.export(source / "tiny.keras", base, render_size=16)  # a second version
    assert (base / "2").is_dir() and (base / "tiny.keras").stat().st_mtime_ns == stamp
