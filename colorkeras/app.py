"""A local web page to colorize photos: ``python -m colorkeras.app``.

    pip install -e ".[app]"
    python -m colorkeras.app            # then open http://127.0.0.1:7860

Drop, paste or pick a photo (JPEG, PNG, TIFF, WebP, 16-bit and EXIF-rotated
files are read as `colorkeras.colorize` reads them), choose the model and the
render size, and compare before and after with a slider; the full-resolution
PNG downloads under the input's name. With a model that takes colour hints
(``unet-hints``) a click on the result drops a hint (`colorkeras.app_hints`).
The page is Gradio's, the demo convention of the field, with analytics and
share links off: it needs no network, and it binds to 127.0.0.1 unless
``--host`` says otherwise.
"""

import os
import pathlib
import sys
import tempfile

from colorkeras import cli

DEFAULT_PORT = 7860
RENDER_SIZES = (256, 384, 512, 768)


def _gradio():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio
    except ImportError:
        raise cli.UsageError(
            "The web app needs Gradio: pip install \"colorkeras[app]\""
        ) from None
    return gradio


class Colorizers:
    """Each model loaded once and reused across requests."""

    def __init__(self):
        import threading

        self._loaded = {}
        self._lock = threading.Lock()  # two requests at once load a model once

    def get(self, name):
        from colorkeras import inference

        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = inference.load(name)
            return self._loaded[name]


def output_name(source):
    """``old photo.jpg`` -> ``old photo_colorized.png``."""
    return f"{pathlib.Path(source).stem or 'photo'}_colorized.png"


def colorize_file(path, model, render_size, colorizers, out_dir, progress=None):
    """Colorize one uploaded file: (original RGB, colorized RGB, PNG path).

    Raises:
        colorkeras.images.UnreadableImage: not an image this reader takes.
    """
    from colorkeras import images, inference

    if progress:
        progress(0.05, desc="Reading the photo")
    pixels = images.read_image(path)
    if progress:
        progress(0.2, desc=f"Loading {model}")
    colorizer = colorizers.get(model)
    if progress:
        progress(0.4, desc=f"Colorizing at {render_size}")
    rgb = inference.colorize(pixels, colorizer, int(render_size))
    if progress:
        progress(0.9, desc="Writing the PNG")
    target = pathlib.Path(out_dir) / output_name(path)
    images.write_image(rgb, target, "png")
    return shown_before(pixels), rgb, str(target)


def shown_before(pixels):
    """The slider's "before": the photo as the colorizer saw it, transparency on white."""
    import numpy as np

    from colorkeras import images, rendering

    return images.to_uint8(np.clip(rendering.to_rgb(pixels[None]).numpy()[0], 0.0, 1.0))


def user_message(error, path):
    """``error`` as the page shows it: the upload's own name, not the server's temporary path."""
    return str(error).replace(str(path), pathlib.Path(path).name)


def make_handler(colorizers, out_dir):
    """The page's colorize action: a bad upload is one sentence on the page, no traceback.

    Gradio keeps an upload as ``/tmp/gradio/<hash>/<its name>``; the message
    names the file as the user knows it, and the server's console stays
    quiet (``print_exception=False``): a bad file is the user's, not a bug.
    """
    gr = _gradio()
    from colorkeras import images
    from colorkeras.errors import InputError

    def run(path, model, render_size, progress=gr.Progress()):
        if not path:
            raise gr.Error("Drop a photo on the page first.", print_exception=False)
        try:
            before, after, png = colorize_file(path, model, render_size, colorizers, out_dir,
                                               progress)
        except (images.UnreadableImage, images.ImageTooLarge, InputError,
                FileNotFoundError) as error:
            raise gr.Error(f"Could not colorize {pathlib.Path(path).name}: "
                           f"{user_message(error, path)}", print_exception=False) from None
        return (before, after), gr.update(value=png, visible=True), (
            f"Colorized {pathlib.Path(png).name.replace('_colorized.png', '')} with {model} "
            f"at render size {render_size}: {after.shape[1]}x{after.shape[0]} pixels."
        )

    return run


def build_app(default_model="pix2pix", out_dir=None):
    """The Gradio `Blocks` page (not launched)."""
    gr = _gradio()
    from colorkeras import app_hints, inference
    from colorkeras.data import sample_photos

    models = inference.available_models()
    if default_model not in models:
        raise cli.UsageError(f"Unknown model {default_model!r}; choose from {models}")
    colorizers = Colorizers()
    out_dir = out_dir or tempfile.mkdtemp(prefix="colorkeras-app-")
    run = make_handler(colorizers, out_dir)

    def clear():  # a new request never leaves the last photo's result on show
        return None, gr.update(value=None, visible=False), ""

    with gr.Blocks(title="colorkeras", analytics_enabled=False) as page:
        gr.Markdown("# colorkeras\nColorize a black-and-white photo. Drop it below, paste "
                    "it, or pick a sample: JPEG, PNG, TIFF or WebP, 16-bit and EXIF-rotated "
                    "files too. Everything runs on this computer.")
        with gr.Row():
            with gr.Column():
                photo = readable_errors(gr.Image(
                    label="Photo: drop, paste or click", type="filepath", image_mode=None,
                    sources=["upload", "clipboard"], elem_id="photo"), gr)
                model = gr.Dropdown(models, value=default_model, label="Model",
                                    elem_id="model")
                render_size = gr.Dropdown(list(RENDER_SIZES), value=256, label="Render size "
                                          "(the network's shorter side; the colour goes onto "
                                          "the full-resolution photo)", elem_id="render-size")
                button = gr.Button("Colorize", variant="primary", elem_id="colorize")
                gr.Examples(sample_photos(8), inputs=[photo], label="Sample photos")
            with gr.Column():
                slider = gr.ImageSlider(label="Before / after", type="numpy",
                                        elem_id="comparison")
                status = gr.Markdown(elem_id="status")
                download = gr.DownloadButton("Download the full-resolution PNG",
                                             visible=False, elem_id="download")
        outputs = [slider, download, status]
        hints = app_hints.HintPanel(gr, colorizers, out_dir, output_name)
        colorized = button.click(clear, None, outputs).then(
            hints.colorize_or(run), [photo, model, render_size, hints.state], outputs)
        hints.build(page, photo, model, render_size, colorized, slider, download, status)
    return page


def readable_errors(component, gr):
    """Make a Gradio image input answer an unreadable upload with a sentence.

    ``type="filepath"`` with no ``image_mode`` hands over the uploaded file
    itself (16-bit, TIFF and EXIF kept for colorkeras's own reader), but
    Gradio opens it first and would answer a corrupt file with a bare
    "Error". The instance's own ``preprocess`` is wrapped, not the class:
    Gradio writes a ``.pyi`` stub beside any module that subclasses a
    component, which an installed package must not do.
    """
    preprocess = component.preprocess

    def checked(payload):
        try:
            return preprocess(payload)
        except (OSError, ValueError, SyntaxError) as error:  # PIL's decode errors
            name = getattr(payload, "orig_name", None) or "this file"
            raise gr.Error(f"Could not read {name} as an image ({error}). "
                           "Try a JPEG, PNG, TIFF or WebP photo.",
                           print_exception=False) from None

    component.preprocess = checked
    return component


LAUNCH_ATTEMPTS = 3


def launch(page, host="127.0.0.1", port=DEFAULT_PORT, block=True):
    """Serve ``page``: no share link, no browser opened, errors shown on the page."""
    gr = _gradio()
    # System fonts: the default theme fetches Google's, and the page must work offline.
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    for attempt in range(LAUNCH_ATTEMPTS):
        try:
            page.queue().launch(server_name=host, server_port=port, share=False,
                                inbrowser=False, show_error=True, quiet=True,
                                prevent_thread_lock=not block, theme=theme)
            return page
        except ValueError as error:
            # Gradio gives its own server 3 seconds to answer, then asks for a share
            # link; on a busy machine the first answer can take longer.
            if "localhost is not accessible" not in str(error) or attempt + 1 == LAUNCH_ATTEMPTS:
                raise
            page.close()


def check_port_free(host, port):
    """Refuse, in one line, a port another program holds, before saying "Serving on"."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise cli.UsageError(f"cannot serve on {host}:{port} ({error.strerror or error}); "
                                 "another program holds it: pass --port N") from None


def build_parser():
    parser = cli.ArgumentParser(
        prog="python -m colorkeras.app",
        description="Serve a local web page that colorizes photos (needs the [app] extra).",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=cli.positive_int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--model", default="pix2pix", help="the model selected at first "
                        "(default pix2pix); the page offers every shipped one")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    check_port_free(args.host, args.port)
    cli.quiet_tensorflow()
    page = build_app(args.model)
    print(f"Serving on http://{args.host}:{args.port} (Ctrl+C stops)", flush=True)
    launch(page, args.host, args.port)
    return 0


if __name__ == "__main__":
    cli.run(main, sys.argv[1:], build_parser)
