"""A colour test clip, written from photos, for the video tests and the flicker benchmark.

Not part of the package: a user never needs to make a clip, and shipping a test
helper would make it look like an API.
"""

import os

import numpy as np


def write_clip(path, photos, size=(320, 240), frames_per_photo=12, fps=12.0, audio=True):
    """A colour clip: a slow pan across each photo, cut
    to the next, with a tone as its soundtrack.

    Returns the number of frames written.

    Args:
        path: the ``.mp4`` to write.
        photos: image files (RGB), one shot each.
        size: (width, height) of the clip.
        frames_per_photo: frames in each shot.
        audio: mux a 440 Hz tone (an AAC track) into it.
    """
    import tempfile
    import wave

    import imageio_ffmpeg as ffmpeg
    from PIL import Image

    from colorkeras import images

    width, height = size
    frames = []
    for photo in photos:
        rgb = Image.fromarray(images.read_image(photo)[..., :3])
        scale = 1.5 * max(width / rgb.width, height / rgb.height)
        rgb = np.asarray(rgb.resize((round(rgb.width * scale), round(rgb.height * scale)),
                                    Image.Resampling.LANCZOS))
        travel_x, travel_y = rgb.shape[1] - width, rgb.shape[0] - height
        for i in range(frames_per_photo):  # a diagonal pan, a pixel or more a frame
            t = i / max(frames_per_photo - 1, 1)
            x, y = round(t * travel_x * 0.5), round(t * travel_y * 0.3)
            frames.append(np.ascontiguousarray(rgb[y:y + height, x:x + width]))
    with tempfile.TemporaryDirectory() as folder:
        sound = None
        if audio:
            sound = os.path.join(folder, "tone.wav")
            rate, seconds = 16000, len(frames) / fps
            t = np.arange(int(rate * seconds)) / rate
            samples = (0.2 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
            with wave.open(sound, "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(rate)
                out.writeframes(samples.tobytes())
        writer = ffmpeg.write_frames(
            str(path), (width, height), fps=fps, codec="libx264", macro_block_size=1,
            quality=None, output_params=["-crf", "12"], audio_path=sound, ffmpeg_log_level="error",
            audio_codec="aac" if audio else None)
        writer.send(None)
        for frame in frames:
            writer.send(frame)
        writer.close()
    return len(frames)
