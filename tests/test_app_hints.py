"""The web app's hint panel helpers, without a browser (tests/test_app_browser.py clicks)."""

import json

import numpy as np
import pytest

from colorkeras import app_hints, hints, inference
from colorkeras.errors import InputError


@pytest.mark.parametrize("value, expected", [
    ("#e02020", "#e02020"), ("#E02020", "#e02020"), ("#e22", "#ee2222"),
    ("rgba(224, 32, 32, 1)", "#e02020"), ("rgb(0, 64, 255)", "#0040ff"),
    (None, app_hints.DEFAULT_COLOUR),
])
def test_picker_colour_takes_what_a_colour_picker_gives(value, expected):
    assert app_hints.picker_colour(value) == expected


def test_picker_colour_refuses_a_non_colour():
    with pytest.raises(InputError, match="#rrggbb"):
        app_hints.picker_colour("red")


def test_a_click_on_the_canvas_lands_on_the_photos_pixel():
    # A 4000x3000 photo shows at 1024x768: canvas pixel 512 is photo pixel ~2001.
    assert app_hints.preview_scale(3000, 4000) == 0.256
    x, y = app_hints.photo_point([512, 384], 3000, 4000)
    assert x == pytest.approx(2001.5, abs=0.1) and y == pytest.approx(1501.5, abs=0.1)
    assert app_hints.photo_point([1023, 767], 3000, 4000) == (3997.5, 2997.5)
    assert app_hints.photo_point([1100, 800], 3000, 4000) == (3999, 2999)  # clamped
    assert app_hints.photo_point([10, 20], 200, 300) == (10, 20)  # small photos: 1:1


def test_added_hints_are_the_json_the_command_line_reads(tmp_path):
    added = app_hints.add_hint([], [100, 50], 200, 300, "rgba(224, 32, 32, 1)", 2.0)
    added = app_hints.add_hint(added, [10, 10], 200, 300, "#0040ff", 0)
    assert added == [{"x": 100, "y": 50, "colour": "#e02020", "radius": 4.0},
                     {"x": 10, "y": 10, "colour": "#0040ff", "radius": 0.0}]
    path = tmp_path / "hints.json"
    path.write_text(hints.hints_to_json(hints.hint_points(added, 200, 300)))
    assert hints.read_hints_file(path) == added
    json.dumps(added)  # the page's state is plain JSON


def test_the_canvas_is_the_result_at_preview_size_with_the_hints_as_dots():
    rgb = np.full([3000, 2000, 3], 128, np.uint8)
    canvas = app_hints.draw_hints(rgb, [{"x": 1000, "y": 1500, "colour": "#e02020",
                                         "radius": 0}])
    assert canvas.shape == (1024, 683, 3)
    assert canvas[512, 341].tolist() == [224, 32, 32]
    assert canvas[0, 0].tolist() == [128, 128, 128]


def test_the_panel_knows_a_hint_model_from_its_file():
    models = inference.available_models()
    assert not app_hints.keras_file_takes_hints(inference.resolve("unet"))
    if app_hints.HINT_MODEL in models:
        assert app_hints.keras_file_takes_hints(inference.resolve(app_hints.HINT_MODEL))


def test_the_panel_answers_a_bad_photo_or_a_model_without_hints_in_one_sentence(tmp_path):
    gr = pytest.importorskip("gradio", reason="the app needs the [app] extra")
    from colorkeras import app

    upload = tmp_path / "gradio" / "0123abcd" / "holiday.jpg"  # as Gradio keeps an upload
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"\xff\xd8 not really a JPEG")
    with gr.Blocks():
        panel = app_hints.HintPanel(gr, app.Colorizers(), tmp_path / "out", app.output_name)
    if app_hints.HINT_MODEL in inference.available_models():
        with pytest.raises(gr.Error) as error:
            panel.page_render(str(upload), app_hints.HINT_MODEL, 256, [])
        message = error.value.message
        assert "holiday.jpg" in message and str(upload.parent) not in message, message
        assert error.value.print_exception is False
    with pytest.raises(gr.Error, match="takes no colour hints: choose unet-hints"):
        panel.page_render(str(upload), "pix2pix", 256, [])  # nothing loaded to say so
    assert not panel.colorizers._loaded
