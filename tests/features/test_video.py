"""Clip frames: sampled at a fixed rate from GIFs (Pillow) and MP4s (PyAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mercato.errors import ConfigError
from mercato.features import UnreadableMediaError, VideoSampling, read_frames

from .helpers import gif_clip

COLOURS = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0), (0, 250, 250), (250, 0, 250)]


def _write_mp4(path: Path, n_frames: int, rate: int) -> Path:
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for index in range(n_frames):
            pixels = np.full((32, 32, 3), COLOURS[index % len(COLOURS)], np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _dominant(frame: Image.Image) -> int:
    return int(np.argmax(np.asarray(frame)[16, 16]))


def test_gif_frames_are_sampled_once_per_second(tmp_path: Path) -> None:
    clip = gif_clip(tmp_path / "clip.gif", COLOURS, frame_ms=500)  # 6 frames over 3 s
    frames = read_frames(clip, VideoSampling(fps=1.0, max_frames=8))
    assert len(frames) == 3  # at 0 s, 1 s, 2 s
    assert [frame.getpixel((0, 0)) for frame in frames] == [COLOURS[0], COLOURS[2], COLOURS[4]]
    assert len(read_frames(clip, VideoSampling(fps=10.0, max_frames=4))) == 4


def test_a_clip_shorter_than_one_interval_gives_its_first_frame(tmp_path: Path) -> None:
    clip = gif_clip(tmp_path / "short.gif", COLOURS[:3], frame_ms=100)
    frames = read_frames(clip, VideoSampling(fps=1.0))
    assert len(frames) == 1 and frames[0].mode == "RGB"


def test_mp4_frames_are_sampled_through_pyav(tmp_path: Path) -> None:
    clip = _write_mp4(tmp_path / "clip.mp4", n_frames=30, rate=10)  # 3 s at 10 fps
    frames = read_frames(clip, VideoSampling(fps=1.0, max_frames=8))
    assert len(frames) == 3 and frames[0].size == (32, 32)
    # frames 0, 10, 20 -> colours 0, 4, 2 (red, cyan, blue); mpeg4 blurs colours slightly
    assert [_dominant(frame) for frame in frames] == [0, 1, 2]


def test_unreadable_clips_raise_unreadable_media(tmp_path: Path) -> None:
    broken_gif = tmp_path / "broken.gif"
    broken_gif.write_bytes(b"GIF89a nonsense")
    with pytest.raises(UnreadableMediaError, match="not a readable clip"):
        read_frames(broken_gif, VideoSampling())
    pytest.importorskip("av")
    broken_mp4 = tmp_path / "broken.mp4"
    broken_mp4.write_bytes(b"\x00\x00\x00\x18ftypmp42 garbage" * 10)
    with pytest.raises(UnreadableMediaError, match="not a readable video"):
        read_frames(broken_mp4, VideoSampling())


@pytest.mark.parametrize("settings", [{"fps": 0.0}, {"fps": float("nan")}, {"max_frames": 0}])
def test_bad_sampling_settings_raise_config_error(settings: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="VideoSampling"):
        VideoSampling(**settings)  # type: ignore[arg-type]
