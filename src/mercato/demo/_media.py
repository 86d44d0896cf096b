"""Procedural product media: a small PNG per item and a short animated GIF for a few items.

The picture carries the item's truth in a form an image model can learn: the shape stands for
the category and the fill for the ``colour`` attribute, on a noisy light background.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mercato.demo._vocab import CATEGORIES, COLOUR_RGB, COLOURS
from mercato.demo._world import DemoTruth, ItemLooks

__all__ = ["IMAGE_SIZE", "ItemMedia", "write_media"]

logger = logging.getLogger(__name__)

IMAGE_SIZE = 64
CLIP_FRAMES = 8
CLIP_FRAME_MS = 100

# Per shape: number of corners, the angle of the first corner, and the ratio of the short to the
# long radius (corners alternate between them); many corners approximate a round outline.
_OUTLINES: dict[str, tuple[int, float, float]] = {
    "circle": (36, 0.0, 1.0),
    "ellipse": (36, 0.0, 0.6),
    "square": (4, math.pi / 4, 1.0),
    "triangle": (3, -math.pi / 2, 1.0),
    "diamond": (4, -math.pi / 2, 0.6),
}


@dataclass(frozen=True)
class ItemMedia:
    """Absolute media paths in item order; ``None`` where an item has no clip."""

    images: list[str]
    videos: list[str | None]


@dataclass(frozen=True)
class _Pose:
    """Where and how the product shape is drawn in one frame."""

    centre_x: float
    centre_y: float
    radius: float
    angle: float
    tint: tuple[float, float, float]


def write_media(
    media_dir: Path,
    truth: DemoTruth,
    looks: ItemLooks,
    video_share: float,
    rng: np.random.Generator,
) -> ItemMedia:
    """Write ``images/<item_id>.png`` for every item and ``clips/<item_id>.gif`` for a share.

    Args:
        media_dir: Folder to write into; created if missing. Existing files are overwritten.
        truth: Supplies item ids and categories.
        looks: Supplies item colours.
        video_share: Share of items, picked at random, that get a clip.
        rng: Source of the pose and noise of every picture.

    Returns:
        The absolute paths, in item order.
    """
    image_dir = media_dir.resolve() / "images"
    clip_dir = media_dir.resolve() / "clips"
    image_dir.mkdir(parents=True, exist_ok=True)
    n_items = len(truth.item_ids)
    with_clip = np.zeros(n_items, dtype=bool)
    with_clip[rng.permutation(n_items)[: round(video_share * n_items)]] = True
    if with_clip.any():
        clip_dir.mkdir(parents=True, exist_ok=True)

    images: list[str] = []
    videos: list[str | None] = []
    for item, item_id in enumerate(truth.item_ids):
        shape = CATEGORIES[truth.item_category[item]].shape
        colour = COLOUR_RGB[COLOURS[looks.colour[item]][0]]
        pose = _Pose(
            centre_x=IMAGE_SIZE / 2 + rng.uniform(-6, 6),
            centre_y=IMAGE_SIZE / 2 + rng.uniform(-6, 6),
            radius=rng.uniform(16, 24),
            angle=rng.uniform(-0.3, 0.3),
            tint=(rng.normal(0, 6), rng.normal(0, 6), rng.normal(0, 6)),
        )
        image_path = image_dir / f"{item_id}.png"
        _draw(shape, colour, pose, rng).save(image_path, format="PNG", compress_level=1)
        images.append(str(image_path))
        video = None
        if with_clip[item]:
            video = str(_write_clip(clip_dir / f"{item_id}.gif", shape, colour, pose, rng))
        videos.append(video)

    logger.info("wrote %d product images and %d clips to %s", n_items, with_clip.sum(), media_dir)
    return ItemMedia(images=images, videos=videos)


def _write_clip(
    path: Path,
    shape: str,
    colour: tuple[int, int, int],
    pose: _Pose,
    rng: np.random.Generator,
) -> Path:
    """A turntable clip: the shape turns a little and bobs up and down over the frames."""
    frames = []
    for frame in range(CLIP_FRAMES):
        phase = 2 * math.pi * frame / CLIP_FRAMES
        moved = _Pose(
            centre_x=pose.centre_x,
            centre_y=pose.centre_y + 3 * math.sin(phase),
            radius=pose.radius,
            angle=pose.angle + phase / 4,
            tint=pose.tint,
        )
        frames.append(_draw(shape, colour, moved, rng))
    # One fast-octree palette shared by all frames: Pillow's default median cut takes ten
    # times longer, and a shared palette keeps colours steady from frame to frame.
    palette = frames[0].quantize(64, method=Image.Quantize.FASTOCTREE)
    rest = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames[1:]]
    palette.save(
        path,
        format="GIF",
        save_all=True,
        append_images=rest,
        duration=CLIP_FRAME_MS,
        loop=0,
    )
    return path


def _draw(
    shape: str, colour: tuple[int, int, int], pose: _Pose, rng: np.random.Generator
) -> Image.Image:
    """One ``IMAGE_SIZE`` square RGB picture of the shape on a noisy light background."""
    background = np.full((IMAGE_SIZE, IMAGE_SIZE, 3), 235.0) + np.asarray(pose.tint)
    picture = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    outline = tuple(max(channel - 70, 0) for channel in colour)
    ImageDraw.Draw(picture).polygon(_corners(shape, pose), fill=colour, outline=outline, width=2)

    # Pixel noise, as a camera would add, so no two pictures are bit-identical.
    pixels = np.asarray(picture, dtype=np.float64) + rng.normal(0, 5, (IMAGE_SIZE, IMAGE_SIZE, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _corners(shape: str, pose: _Pose) -> list[tuple[float, float]]:
    count, first_angle, short_ratio = _OUTLINES[shape]
    cos_turn, sin_turn = math.cos(pose.angle), math.sin(pose.angle)
    corners = []
    for corner in range(count):
        angle = first_angle + 2 * math.pi * corner / count
        # Round outlines get the short radius on one axis (an ellipse); polygons alternate it
        # between corners (a diamond).
        if count > 8:
            x, y = pose.radius * math.cos(angle), pose.radius * short_ratio * math.sin(angle)
        else:
            radius = pose.radius * (short_ratio if corner % 2 else 1.0)
            x, y = radius * math.cos(angle), radius * math.sin(angle)
        corners.append(
            (
                pose.centre_x + x * cos_turn - y * sin_turn,
                pose.centre_y + x * sin_turn + y * cos_turn,
            )
        )
    return corners
