"""Product clips as frames: sampled at a fixed rate, for the image encoder to embed and average.

Animated GIF / WebP / PNG are read with Pillow; MP4 and every other container with PyAV (the
optional ``av`` package, which bundles FFmpeg).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageSequence

from mercato.errors import ConfigError
from mercato.features._image import DECODE_ERRORS, UnreadableMediaError, flatten_alpha
from mercato.features._packages import require_package

__all__ = ["PILLOW_CLIP_SUFFIXES", "VideoSampling", "read_frames", "require_clip_reader"]

logger = logging.getLogger(__name__)

#: Clip formats Pillow decodes; anything else goes through PyAV.
PILLOW_CLIP_SUFFIXES = frozenset({".gif", ".webp", ".png", ".apng"})

# Pillow's default when a GIF frame states no duration, in milliseconds.
_DEFAULT_FRAME_MS = 100.0
Frame = TypeVar("Frame")


@dataclass(frozen=True)
class VideoSampling:
    """Which frames of a clip are embedded: one every ``1 / fps`` seconds, at most ``max_frames``.

    The first frame is always taken, so a clip shorter than one interval still gives one frame.

    Attributes:
        fps: Frames per second of clip time to sample (> 0).
        max_frames: Upper bound on frames per clip (>= 1); bounds the cost of long videos.

    Stability: stable.
    """

    fps: float = 1.0
    max_frames: int = 8

    def __post_init__(self) -> None:
        if not (isinstance(self.fps, int | float) and math.isfinite(self.fps) and self.fps > 0):
            raise ConfigError(f"VideoSampling.fps must be a positive number; got {self.fps!r}.")
        if not isinstance(self.max_frames, int) or self.max_frames < 1:
            raise ConfigError(
                f"VideoSampling.max_frames must be an integer >= 1; got {self.max_frames!r}."
            )

    def pick(
        self, timed_frames: Iterable[tuple[float, Frame]], to_image: Callable[[Frame], Image.Image]
    ) -> list[Image.Image]:
        """The frames due at 0, 1/fps, 2/fps, ... seconds, as RGB pictures.

        Args:
            timed_frames: ``(seconds, frame)`` in time order; read only as far as needed.
            to_image: Converts a picked frame (only those) to a Pillow image.
        """
        picked: list[Image.Image] = []
        due = 0.0
        for time, frame in timed_frames:
            if time + 1e-6 >= due:  # tolerance: frame times are rounded to the container's clock
                picked.append(flatten_alpha(to_image(frame)))
                due = (math.floor(time * self.fps + 1e-6) + 1) / self.fps
                if len(picked) == self.max_frames:
                    break
        return picked


def require_clip_reader(paths: Iterable[Path]) -> None:
    """Fail early, before any encoding, when a clip needs PyAV and it is not installed.

    Raises:
        ConfigError: naming the ``av`` package.
    """
    if any(path.suffix.lower() not in PILLOW_CLIP_SUFFIXES for path in paths):
        require_package("av", pip_name="av", needed_for="reading MP4 and other video clips")


def read_frames(path: Path, sampling: VideoSampling) -> list[Image.Image]:
    """The sampled frames of a clip, as RGB pictures.

    Raises:
        UnreadableMediaError: the file is missing, not a clip, or has no frame.
        ConfigError: the clip needs PyAV and it is not installed.
    """
    if path.suffix.lower() in PILLOW_CLIP_SUFFIXES:
        frames = _pillow_frames(path, sampling)
    else:
        frames = _av_frames(path, sampling)
    if not frames:
        raise UnreadableMediaError("the clip has no frame")
    return frames


def _pillow_frames(path: Path, sampling: VideoSampling) -> list[Image.Image]:
    try:
        with Image.open(path) as clip:
            # copy: the sequence iterator reuses one image object for every frame
            return sampling.pick(_timed_pillow_frames(clip), lambda frame: frame.copy())
    except DECODE_ERRORS as error:
        raise UnreadableMediaError(f"not a readable clip ({error})") from error


def _timed_pillow_frames(clip: Image.Image) -> Iterator[tuple[float, Image.Image]]:
    elapsed_ms = 0.0
    for frame in ImageSequence.Iterator(clip):
        yield elapsed_ms / 1000.0, frame
        elapsed_ms += float(frame.info.get("duration") or _DEFAULT_FRAME_MS)


def _av_frames(path: Path, sampling: VideoSampling) -> list[Image.Image]:
    av = require_package("av", pip_name="av", needed_for="reading MP4 and other video clips")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnreadableMediaError("the file has no video stream")
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 25)
            timed = (
                (frame.time if frame.time is not None else index / rate, frame)
                for index, frame in enumerate(container.decode(stream))
            )
            return sampling.pick(timed, lambda frame: frame.to_image())
    except (av.FFmpegError, OSError, ValueError) as error:
        raise UnreadableMediaError(f"not a readable video ({error})") from error
