"""The web app's colour hints: click the result to say "this dress was red".

When the selected model takes hints (``unet-hints``, see
`inference.takes_hints`), the page shows a hint canvas under the result: the
colorized photo with the hints as dots. A click drops a hint there in the
colour picker's colour and re-renders the photo; *Undo last hint* and
*Clear hints* take them back, and the hints download as the JSON that
``python -m colorkeras.colorize --hints`` reads (`hints.hints_to_json`).
Hints belong to the photo: a new upload clears them. With a model that
takes no hints the panel is hidden, and a line says which model does.

The canvas shows the result at most `PREVIEW_SIDE` pixels long; a click is
mapped back to the photo's own pixels, where the hints are kept.
"""

import collections
import json
import pathlib
import re
import time
import zipfile

import numpy as np

from colorkeras import hints as hint_lib

HINT_MODEL = "unet-hints"
DEFAULT_COLOUR = "#e02020"
DEFAULT_RADIUS_PERCENT = 1.0  # of the photo's shorter side
PREVIEW_SIDE = 1024
DOT_RADIUS = 6  # the smallest dot drawn on the canvas, in its pixels

_RGBA = re.compile(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)")
_SHORT_HEX = re.compile(r"#([0-9a-fA-F]{3})")


def picker_colour(value):
    """``"#rrggbb"`` from a colour picker's value: ``#rrggbb``, ``#rgb`` or ``rgb(a)(...)``."""
    text = str(value or DEFAULT_COLOUR).strip()
    short = _SHORT_HEX.fullmatch(text)
    if short:
        text = "#" + "".join(c * 2 for c in short.group(1))
    rgba = _RGBA.fullmatch(text)
    if rgba:
        text = hint_lib.colour_to_hex([min(float(c), 255.0) / 255.0 for c in rgba.groups()])
    return hint_lib.colour_to_hex(hint_lib.parse_colour(text))


def preview_scale(height, width, side=PREVIEW_SIDE):
    """The canvas's size over the photo's: at most ``side`` pixels on the longer side."""
    return min(1.0, side / max(height, width))


def photo_point(index, height, width):
    """The photo's pixel (x, y) for a click at ``index`` = [x, y] of the canvas."""
    scale = preview_scale(height, width)
    x = (float(index[0]) + 0.5) / scale - 0.5
    y = (float(index[1]) + 0.5) / scale - 0.5
    return (round(min(max(x, 0.0), width - 1), 1), round(min(max(y, 0.0), height - 1), 1))


def add_hint(hints, index, height, width, colour, radius_percent):
    """``hints`` with one more, at canvas pixel ``index``, as a JSON-ready dict."""
    x, y = photo_point(index, height, width)
    radius = round(max(float(radius_percent or 0), 0.0) / 100 * min(height, width), 1)
    return [*hints, {"x": x, "y": y, "colour": picker_colour(colour), "radius": radius}]


def draw_hints(rgb, hints):
    """The canvas: ``rgb`` scaled to the preview size, each hint a ringed dot."""
    from PIL import Image, ImageDraw

    height, width = rgb.shape[:2]
    scale = preview_scale(height, width)
    canvas = Image.fromarray(rgb)
    if scale < 1:
        canvas = canvas.resize((max(1, round(width * scale)), max(1, round(height * scale))),
                               Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(canvas)
    for hint in hints:
        cx, cy = (hint["x"] + 0.5) * scale - 0.5, (hint["y"] + 0.5) * scale - 0.5
        r = max(hint["radius"] * scale, DOT_RADIUS)
        draw.ellipse([cx - r - 2, cy - r - 2, cx + r + 2, cy + r + 2], fill="black")
        draw.ellipse([cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1], fill="white")
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=hint["colour"])
    return np.asarray(canvas)


def fast_png(array, path):
    """Write ``array`` as a PNG with light compression: a click's outputs in a blink.

    The page writes the full-resolution result on every click; Pillow's
    default compression takes seconds at 12 MP, level 1 a fraction of that
    for a file about a third larger.
    """
    from PIL import Image

    from colorkeras import atomic

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(path, "wb") as stream:
        Image.fromarray(np.asarray(array, np.uint8)).save(stream, format="PNG",
                                                           compress_level=1)
    return str(path)


def keras_file_takes_hints(path):
    """Whether the colorizer saved in ``path`` has a hint input (its ``hints`` hparam).

    Read from the ``.keras`` file's ``config.json``, so that showing or
    hiding the hint panel loads no model.
    """
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    return bool(config["config"]["network"]["config"].get("hints", False))


def hint_count(n):
    return f"{n} colour hint" + ("" if n == 1 else "s")


class HintPanel:
    """The hint controls of one page, sharing the page's loaded models.

    Made inside the page's ``Blocks``: `state` (the hints of the photo on
    show) is one of its components. `colorize_or` wraps the page's
    Colorize action; `build` adds the panel and wires its events.

    Args:
        gr: the gradio module.
        colorizers: the page's `app.Colorizers` (each model loaded once).
        out_dir: where the page writes its downloads.
        output_name: ``photo path -> PNG name``, as the page names its download.
    """

    def __init__(self, gr, colorizers, out_dir, output_name):
        self.gr = gr
        self.colorizers = colorizers
        self.out_dir = pathlib.Path(out_dir)
        self.output_name = output_name
        self.state = gr.State([])  # the hints: JSON-ready dicts in the photo's pixels
        self._photos = collections.OrderedDict()  # path -> (pixels, before PNG): the last few
        self._work = self.out_dir / "hint-work"  # the slider's "before", the canvas
        self._reads = 0
        self._takes_hints = {}  # model name -> bool
        self._last = None  # (path, model, render size, hints) -> the last result

    # --- the work -------------------------------------------------------------------------

    def takes_hints(self, model):
        """Whether ``model`` has a hint input, from its file's config: nothing is loaded."""
        from colorkeras import inference

        if not model:
            return False
        if model not in self._takes_hints:
            try:
                self._takes_hints[model] = keras_file_takes_hints(inference.resolve(model))
            except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
                self._takes_hints[model] = inference.takes_hints(self.colorizers.get(model))
        return self._takes_hints[model]

    def photo(self, path):
        """(uint8 pixels, its RGB as a PNG: the slider's "before"), read once per photo."""
        from colorkeras import images
        from colorkeras.app import shown_before

        if path not in self._photos:
            pixels = images.read_image(path)
            before = shown_before(pixels)
            self._reads += 1  # three names for the two photos kept: never one in use
            self._photos[path] = pixels, fast_png(
                before, self._work / f"before-{self._reads % 3}.png")
            while len(self._photos) > 2:
                self._photos.popitem(last=False)
        self._photos.move_to_end(path)
        return self._photos[path]

    def canvas(self, rgb, hints):
        """The canvas's PNG: ``rgb`` at preview size with the hints as dots."""
        return fast_png(draw_hints(rgb, hints), self._work / "canvas.png")

    def render(self, path, model, render_size, hints):
        """Colorize ``path`` with ``hints``.

        Returns:
            (before PNG, after RGB, after PNG, hints JSON path, seconds the
            colorizing took): the PNGs full size, "before" the gray photo.
        """
        from colorkeras import inference

        pixels, before = self.photo(path)
        colorizer = self.colorizers.get(model)
        start = time.perf_counter()
        # Always with a hints list, empty or not: one traced function per render size.
        after = inference.colorize(pixels, colorizer, int(render_size), hints=list(hints))
        seconds = time.perf_counter() - start
        png = fast_png(after, self.out_dir / self.output_name(path))
        json_path = self.out_dir / f"{pathlib.Path(path).stem or 'photo'}_hints.json"
        json_path.write_text(hint_lib.hints_to_json(
            hint_lib.hint_points(list(hints), *pixels.shape[:2])) + "\n")
        self._last = (path, model, int(render_size), json.dumps(hints)), after
        return before, after, png, str(json_path), seconds

    def page_render(self, path, model, render_size, hints):
        """`render` for the page: a bad photo or model is a sentence, not a traceback."""
        from colorkeras import images
        from colorkeras.errors import InputError

        gr = self.gr
        if not path:
            raise gr.Error("Drop a photo on the page first.", print_exception=False)
        if not self.takes_hints(model):
            raise gr.Error(f"{model} takes no colour hints: choose {HINT_MODEL}.",
                           print_exception=False)
        try:
            return self.render(path, model, render_size, hints)
        except (images.UnreadableImage, images.ImageTooLarge, InputError,
                FileNotFoundError) as error:
            name = pathlib.Path(path).name
            raise gr.Error(f"Could not colorize {name}: "
                           f"{str(error).replace(str(path), name)}",
                           print_exception=False) from None

    @staticmethod
    def status(path, model, render_size, hints, after):
        return (f"Colorized {pathlib.Path(path).stem} with {model} at render size "
                f"{render_size} and {hint_count(len(hints))}: "
                f"{after.shape[1]}x{after.shape[0]} pixels.")

    def colorize_or(self, run):
        """The Colorize action: ``run`` for a model without hints, else with the hints.

        A hint model always runs with its hints (none or some), so that the
        page traces one function per render size and a click right after
        Colorize is fast. Takes ``(path, model, render_size, hints)``.
        """
        gr = self.gr

        def colorize(path, model, render_size, hints, progress=gr.Progress()):
            if not self.takes_hints(model):
                return run(path, model, render_size, progress)
            if path:
                progress(0.2, desc=f"Colorizing with {model} at {render_size}")
            before, after, png, _, _ = self.page_render(path, model, render_size, hints)
            return ((before, png), gr.update(value=png, visible=True),
                    self.status(path, model, render_size, hints, after))

        return colorize

    # --- the page -------------------------------------------------------------------------

    def build(self, page, photo, model, render_size, colorize_event, slider, download,
              status):
        """Add the panel to ``page`` (inside its ``Blocks``) and wire its events.

        ``colorize_event``: the Colorize button's chain (`colorize_or`); the
        panel follows it so that the canvas shows the new result.
        """
        from colorkeras import images
        from colorkeras.errors import InputError

        gr = self.gr
        hints = self.state
        with gr.Column(visible=False, elem_id="hint-panel") as panel:
            gr.Markdown("### Colour hints\nClick on the photo below to say which colour a "
                        "place was: the colorizer carries it through the object. Only the "
                        "colour counts; the photo keeps its own light and shade.")
            canvas = gr.Image(label="Click to drop a hint", type="filepath",
                              interactive=False, buttons=[], elem_id="hint-canvas")
            with gr.Row():
                colour = gr.ColorPicker(DEFAULT_COLOUR, label="Hint colour",
                                        elem_id="hint-colour")
                radius = gr.Slider(0, 5, value=DEFAULT_RADIUS_PERCENT, step=0.25,
                                   label="Hint radius (% of the photo's shorter side)",
                                   elem_id="hint-radius")
            with gr.Row():
                undo = gr.Button("Undo last hint", elem_id="hint-undo")
                clear = gr.Button("Clear hints", elem_id="hint-clear")
                download_hints = gr.DownloadButton("Download the hints (JSON)", visible=False,
                                                   elem_id="hint-download")
            hint_status = gr.Markdown(elem_id="hint-status")
        note = gr.Markdown(visible=False, elem_id="hint-note")

        def rerender(path, model_name, size, new_hints):
            """Every output of a change of hints."""
            before, after, png, json_path, seconds = self.page_render(path, model_name, size,
                                                                      new_hints)
            return {
                hints: new_hints,
                canvas: self.canvas(after, new_hints),
                slider: (before, png),
                download: gr.update(value=png, visible=True),
                download_hints: gr.update(value=json_path, visible=bool(new_hints)),
                status: self.status(path, model_name, size, new_hints, after),
                hint_status: f"{hint_count(len(new_hints))}; rendered in {seconds:.2f} s.",
            }

        outputs = [hints, canvas, slider, download, download_hints, status, hint_status]

        def on_click(path, model_name, size, picked, radius_percent, old, evt: gr.SelectData):
            if not path or evt.index is None:
                return gr.skip()
            pixels, _ = self.photo(path)
            return rerender(path, model_name, size,
                            add_hint(old, evt.index, *pixels.shape[:2], picked, radius_percent))

        def on_undo(path, model_name, size, old):
            return rerender(path, model_name, size, old[:-1]) if old else gr.skip()

        def on_clear(path, model_name, size, old):
            return rerender(path, model_name, size, []) if old else gr.skip()

        def shown(path, model_name, current):
            """The panel for ``model_name``; an empty canvas shows the photo."""
            if not self.takes_hints(model_name):
                offer = HINT_MODEL in self.available()
                return {panel: gr.update(visible=False),
                        note: gr.update(visible=offer, value=(
                            f"*Colour hints: {model_name} takes none; choose {HINT_MODEL} to "
                            "click colours onto the photo.*"))}
            update = {panel: gr.update(visible=True), note: gr.update(visible=False)}
            if path and current is None:
                try:
                    update[canvas] = self.photo(path)[1]
                except (images.UnreadableImage, images.ImageTooLarge, InputError, OSError):
                    pass  # Colorize says why
            return update

        def on_new_photo(path, model_name):
            """Hints belong to the photo: a new one starts with none."""
            return {hints: [], canvas: None, hint_status: "",
                    download_hints: gr.update(value=None, visible=False),
                    **shown(path, model_name, None)}

        def after_colorize(path, model_name, size, current):
            """The Colorize button's result on the canvas, with the hints as dots."""
            if not path or not self.takes_hints(model_name) or self._last is None:
                return gr.skip()
            key, after = self._last
            if key != (path, model_name, int(size), json.dumps(current)):
                return gr.skip()
            return {canvas: self.canvas(after, current),
                    hint_status: (f"{hint_count(len(current))}. " if current else "")
                    + "Click on the photo to drop a hint."}

        panel_outputs = [panel, note, canvas]
        canvas.select(on_click, [photo, model, render_size, colour, radius, hints], outputs,
                      show_progress="minimal")
        undo.click(on_undo, [photo, model, render_size, hints], outputs)
        clear.click(on_clear, [photo, model, render_size, hints], outputs)
        model.change(shown, [photo, model, canvas], panel_outputs)
        photo.change(on_new_photo, [photo, model],
                     [hints, hint_status, download_hints, *panel_outputs])
        page.load(shown, [photo, model, canvas], panel_outputs)
        colorize_event.success(after_colorize, [photo, model, render_size, hints],
                               [canvas, hint_status])
        return panel

    @staticmethod
    def available():
        from colorkeras import inference

        return inference.available_models()
