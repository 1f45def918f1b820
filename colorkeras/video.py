"""Colorize video, with colour that holds still from frame to frame.

    colorkeras colorize clip.mp4 --out coloured/

Frames are read and written through imageio-ffmpeg, which ships its own
ffmpeg (the ``[video]`` extra): the output keeps the source's frame count,
frame rate, size and audio track, as H.264 MP4. Each frame is colorized as a
photo is (the network at ``render_size``, its colour put onto the frame's
full-resolution luminance), in batches.

Colour that flickers between frames is what users of video colorizers
complain about most, since a network sees each frame alone. `ChromaStabilizer`,
the recipe's ``chroma_filter``, smooths the network's chroma over time where
the picture holds still, follows it at once where the luminance moves, and
starts afresh at a scene cut.
`FlickerMeter` measures the result: the mean absolute frame-to-frame change
of the output's a*b*, comparable with the same figure for a colour source.
"""

import contextlib
import dataclasses
import itertools
import math
import pathlib

import numpy as np

from colorkeras import atomic, terminal
from colorkeras.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm")
CUT_THRESHOLD = 0.12  # mean |ΔY| (Y in [0, 1]) between frames that marks a scene cut


def is_video(path):
    """Whether ``path`` names a video file (by its extension)."""
    return pathlib.Path(path).suffix.lower() in VIDEO_EXTENSIONS


def _ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ImportError(
            "Video needs imageio-ffmpeg (it ships ffmpeg): pip install \"colorkeras[video]\""
        ) from None
    return imageio_ffmpeg


def is_cut(luma, previous, threshold=CUT_THRESHOLD):
    """Whether two frames' luminance (same shape, in [0, 1]) differ like a scene cut."""
    return previous is None or float(np.mean(np.abs(luma - previous))) > threshold


class ChromaStabilizer:
    """Temporal smoothing of chroma that follows motion and resets at cuts.

    Each pixel's chroma becomes ``keep * previous + (1 - keep) * current``,
    where ``keep = strength * max(0, 1 - motion_scale * |ΔY|)``: a pixel whose
    luminance holds still keeps most of its earlier colour, a moving one takes
    the new frame's. At a cut (`is_cut`) it starts again from the new frame.

    Called on a batch of frames in order, it is a ``chroma_filter`` for
    `colorizer.ColorizeRecipe.colorize`, which gives it the network's chroma
    at render size; it remembers the last frame from call to call.

    Args:
        strength: the share of the previous colour kept where nothing moves.
        motion_scale: how quickly a luminance change lets new colour in.
        cut_threshold: mean |ΔY| that counts as a scene cut.
    """

    def __init__(self, strength=0.8, motion_scale=10.0, cut_threshold=CUT_THRESHOLD):
        if not 0 <= strength < 1:
            raise InputError(f"`strength` must be in [0, 1). Received: {strength}")
        self.strength = float(strength)
        self.motion_scale = float(motion_scale)
        self.cut_threshold = float(cut_threshold)
        self._luma = self._chroma = None

    def __call__(self, luma, chroma):
        """Stabilised chroma of frames in order (``luma`` [N, h, w, 1], ``chroma`` [N, h, w, 2])."""
        return np.stack([self.step(y, c) for y, c in zip(np.asarray(luma), np.asarray(chroma))])

    def step(self, luma, chroma):
        """Stabilised chroma for the next frame (``luma`` [h, w, 1], ``chroma`` [h, w, 2])."""
        luma = np.asarray(luma, np.float32)
        chroma = np.asarray(chroma, np.float32)
        if (self._luma is None or self._luma.shape != luma.shape
                or is_cut(luma, self._luma, self.cut_threshold)):
            out = chroma
        else:
            motion = np.abs(luma - self._luma)
            keep = self.strength * np.clip(1.0 - self.motion_scale * motion, 0.0, 1.0)
            out = keep * self._chroma + (1.0 - keep) * chroma
        self._luma, self._chroma = luma, out
        return out


def small_lab(rgb_uint8, size=128):
    """CIE Lab of uint8 RGB frames ``[N, H, W, 3]`` with the shorter side at ``size``.

    Plenty for measuring colour, and cheap at any resolution.
    """
    import tensorflow as tf

    from colorkeras import color, rendering

    rgb = tf.constant(rgb_uint8, tf.float32) / 255.0
    rgb = tf.image.resize(rgb, rendering.render_shape(tf.shape(rgb)[1:3], size), antialias=True)
    return color.rgb_to_lab(tf.clip_by_value(rgb, 0.0, 1.0)).numpy()


class FlickerMeter:
    """Mean absolute frame-to-frame change of a*b*, cuts left out."""

    def __init__(self, cut_threshold=CUT_THRESHOLD):
        self.cut_threshold = cut_threshold
        self._previous = None
        self.total = 0.0
        self.pairs = 0

    def update(self, lab):
        """Add the next frame, as Lab from `small_lab`."""
        luma = lab[..., :1] / 100.0
        if self._previous is not None and not is_cut(luma, self._previous[0],
                                                     self.cut_threshold):
            self.total += float(np.mean(np.abs(lab[..., 1:] - self._previous[1])))
            self.pairs += 1
        self._previous = (luma, lab[..., 1:])

    def result(self):
        return self.total / self.pairs if self.pairs else 0.0


@dataclasses.dataclass
class VideoResult:
    """What `colorize_video` did and measured."""

    frames: int
    fps: float
    size: tuple
    audio: bool
    seconds: float
    flicker: float
    source_flicker: float
    delta_e2000: float  # to the source's own colours (meaningful for a colour source)
    source_chroma: float = math.nan  # the source's mean a*b* chroma: about 0 when gray

    GRAY_CHROMA = 2.0
    """Below this mean chroma a source has no colours to compare with."""

    def summary(self):
        text = (f"{self.frames} frames at {self.fps:g} fps, {self.size[0]}x{self.size[1]}"
                f"{', with audio' if self.audio else ''}, in {self.seconds:.1f} s "
                f"({self.frames / max(self.seconds, 1e-9):.1f} frames/s); flicker "
                f"(mean |Δa*b*| between frames) {self.flicker:.2f}, the source's "
                f"{self.source_flicker:.2f}")
        if self.source_chroma < self.GRAY_CHROMA:  # a gray film: nothing to compare with
            return text
        return f"{text}; ΔE2000 to the source's colours {self.delta_e2000:.2f}"


def colorize_frames(colorizer, frames, render_size, stabilizer=None):
    """Colorize uint8 RGB frames ``[N, H, W, 3]`` in order; uint8 RGB back.

    The recipe photos take, with the stabilizer as its ``chroma_filter``.
    """
    return colorizer.colorize(frames, render_size=render_size,
                              chroma_filter=stabilizer).numpy()


def partial_path(target):
    """Where an unfinished output is written before it is renamed into place."""
    target = pathlib.Path(target)
    return target.with_name(f".{target.stem}.partial{target.suffix}")


def colorize_video(source, target, model="pix2pix", render_size=256, batch_size=8,
                   stabilize=True, progress=True):
    """Colorize ``source`` into ``target`` (H.264 MP4) and measure its flicker.

    The output is written to a hidden partial file beside ``target`` and
    renamed only when complete, so an interrupted run leaves no half-written
    video, and a rerun starts over (it removes a stale partial file first).

    Args:
        source: a video file ffmpeg reads.
        target: the ``.mp4`` to write.
        model: as for `colorkeras.colorize`.
        render_size: the shorter side the network runs at.
        batch_size: frames colorized together.
        stabilize: smooth the colour over time (`ChromaStabilizer`).
        progress: show a progress bar in frames.

    Returns:
        A `VideoResult`.
    """
    import time

    import keras

    from colorkeras import inference, metrics

    ffmpeg = _ffmpeg()
    source, target = pathlib.Path(source), pathlib.Path(target)
    if not source.is_file():
        raise FileNotFoundError(f"No such video: {str(source)!r}")
    colorizer = inference.colorizer_for(model)
    count, reader, meta = open_video(source)
    width, height = meta["size"]
    fps = meta["fps"] or 25.0
    audio = "audio_codec" in meta
    # 4:2:0 needs even sides; 4:4:4 keeps an odd-sized source's size exactly.
    pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    stabilizer = ChromaStabilizer() if stabilize else None
    flicker, source_flicker = FlickerMeter(), FlickerMeter()
    errors, source_chroma = [], []
    bar = keras.utils.Progbar(count, unit_name="frame",
                              verbose=terminal.progress_verbosity()) if progress else None
    start, done = time.perf_counter(), 0
    encoding = dict(
        fps=fps, codec="libx264", pix_fmt_out=pix_fmt, macro_block_size=1, quality=None,
        output_params=["-crf", "18", "-movflags", "+faststart"],
        audio_path=str(source) if audio else None, audio_codec="aac" if audio else None)
    # ffmpeg is closed before its partial file is renamed into place (or removed).
    with (atomic.temporary_path(target, partial_path(target).name) as partial,
          contextlib.closing(ffmpeg.write_frames(partial, (width, height), **encoding)) as writer):
        writer.send(None)  # start ffmpeg
        batch = []
        for raw in itertools.chain(reader, [None]):  # None: flush the last batch
            if raw is not None:
                batch.append(np.frombuffer(raw, np.uint8).reshape(height, width, 3))
            if batch and (raw is None or len(batch) == batch_size):
                frames = np.stack(batch)
                out = colorize_frames(colorizer, frames, render_size, stabilizer)
                for coloured in out:
                    writer.send(np.ascontiguousarray(coloured))
                lab_out, lab_source = small_lab(out), small_lab(frames)
                for a, b in zip(lab_out, lab_source):
                    flicker.update(a)
                    source_flicker.update(b)
                per_frame = np.mean(metrics.ciede2000_lab(lab_source, lab_out), axis=(1, 2))
                errors.append(float(np.sum(per_frame)))
                source_chroma.append(float(np.sum(np.hypot(lab_source[..., 1],
                                                            lab_source[..., 2]).mean((1, 2)))))
                done += len(out)
                if bar:
                    bar.update(min(done, count))
                batch = []
    if done == 0:
        target.unlink()
        raise InputError(f"{source} has no frames ffmpeg can read")
    return VideoResult(
        frames=done, fps=fps, size=(width, height), audio=audio,
        seconds=time.perf_counter() - start, flicker=flicker.result(),
        source_flicker=source_flicker.result(), delta_e2000=sum(errors) / done,
        source_chroma=sum(source_chroma) / done,
    )


def open_video(path):
    """(frame count, frame reader, ffmpeg's metadata) for a video file.

    Raises:
        InputError: ffmpeg cannot read it (a corrupt, truncated or fake
            file), with ffmpeg's own last word in one line, not its banner.
    """
    import subprocess

    ffmpeg = _ffmpeg()
    try:
        count, _ = ffmpeg.count_frames_and_secs(str(path))
        reader = ffmpeg.read_frames(str(path))
        meta = reader.__next__()
    except (subprocess.CalledProcessError, OSError, RuntimeError, StopIteration) as error:
        output = getattr(error, "output", None) or str(error)
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        reason = lines[-1] if lines else type(error).__name__
        raise InputError(f"{path}: ffmpeg cannot read it as a video ({reason})") from None
    return count, reader, meta


def probe(path):
    """(frame count, fps, (width, height), has audio) of a video file."""
    count, reader, meta = open_video(path)
    reader.close()
    return count, meta["fps"], tuple(meta["size"]), "audio_codec" in meta
