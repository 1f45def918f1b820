"""Video colorization: frames, frame rate, size and audio kept; colour held steady."""

import importlib

import numpy as np
import pytest

pytest.importorskip("imageio_ffmpeg", reason="the [video] extra is not installed "
                    "(pip install -e '.[video]'; .ci/run does it)")

from benchmarks.clips import write_clip  # noqa: E402
from colorkeras import images, video  # noqa: E402
from colorkeras.data import SAMPLE_DIR  # noqa: E402

command = importlib.import_module("colorkeras.colorize_command")
FRAMES_PER_SHOT = 6


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A colour clip written by the test: a pan across one photo, a cut, another, a tone."""
    folder = tmp_path_factory.mktemp("video")
    files = images.list_images(SAMPLE_DIR)
    path = folder / "clip.mp4"
    frames = write_clip(path, [files[3], files[20]], size=(96, 64),
                        frames_per_photo=FRAMES_PER_SHOT, fps=10.0)
    return path, frames


@pytest.fixture(scope="module")
def network(tiny_network):
    return tiny_network


def test_command_keeps_frames_rate_size_and_audio(clip, network, tmp_path, run_command):
    path, frames = clip
    # What probe reads of the clip is what write_clip was asked for: 2 shots of 6 frames.
    assert frames == 2 * FRAMES_PER_SHOT
    assert video.probe(path) == (frames, 10.0, (96, 64), True)
    result = run_command(command.main, path, "--model", network, "--out", tmp_path,
                         "--render-size", 32, "--batch-frames", 4)
    assert result.code == 0, result.err
    out = tmp_path / "clip.mp4"
    assert video.probe(out) == (frames, 10.0, (96, 64), True)
    assert "flicker" in result.out
    assert not video.partial_path(out).exists()
    # Kept unless --overwrite.
    stamp = out.stat().st_mtime_ns
    result = run_command(command.main, path, "--model", network, "--out", tmp_path)
    assert result.code == 0
    assert out.stat().st_mtime_ns == stamp and "Kept" in result.out


def test_an_interrupted_run_leaves_nothing_and_a_rerun_starts_over(
        clip, network, tmp_path, monkeypatch):
    path, frames = clip
    target = tmp_path / "clip.mp4"
    stale = video.partial_path(target)
    real = video.colorize_frames
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(video, "colorize_frames", interrupted)
    with pytest.raises(KeyboardInterrupt):
        video.colorize_video(path, target, str(network), 32, batch_size=4, progress=False)
    assert not target.exists() and not stale.exists()
    monkeypatch.setattr(video, "colorize_frames", real)
    stale.write_bytes(b"left by a killed run")
    result = video.colorize_video(path, target, str(network), 32, batch_size=4, progress=False)
    assert result.frames == frames and video.probe(target)[0] == frames
    assert not stale.exists()


def test_stabilizer_steadies_still_pixels_follows_motion_and_resets_at_cuts():
    rng = np.random.default_rng(0)
    luma = np.full((8, 8, 1), 0.5, np.float32)
    truth = np.full((8, 8, 2), 0.1, np.float32)
    noisy = [truth + rng.normal(0, 0.05, truth.shape).astype(np.float32) for _ in range(20)]
    stabilizer = video.ChromaStabilizer()
    # Called on a batch (as `colorize` calls a chroma filter), it goes frame by frame.
    steady = list(stabilizer(np.stack([luma] * len(noisy)), np.stack(noisy)))

    def flicker(frames):
        return np.mean([np.abs(a - b).mean() for a, b in zip(frames, frames[1:])])

    assert flicker(steady) < 0.5 * flicker(noisy)
    # A pixel whose luminance jumps takes the new colour at once.
    moved = luma.copy()
    moved[0, 0] = 0.9
    new = np.full((8, 8, 2), -0.2, np.float32)
    out = stabilizer.step(moved, new)
    assert np.allclose(out[0, 0], new[0, 0]) and not np.allclose(out[4, 4], new[4, 4])
    # A cut (the whole picture changes) starts afresh.
    cut = np.full((8, 8, 1), 0.05, np.float32)
    assert np.allclose(stabilizer.step(cut, new), new)


def test_flicker_meter_skips_cuts():
    meter = video.FlickerMeter()
    a = np.zeros((4, 4, 3), np.float32)
    a[..., 0] = 50
    b = a.copy()
    b[..., 1] = 2.0  # a* moves by 2: flicker 1 (mean over a* and b*)
    c = a.copy()
    c[..., 0] = 90  # a cut: the luminance jumps
    for frame in (a, b, c, c):
        meter.update(frame)
    assert meter.pairs == 2 and meter.result() == pytest.approx(0.5)
