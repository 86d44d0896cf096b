"""Small stand-in encoders and a tiny shop with media files, for the feature tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from PIL import Image

from mercato.data import Dataset
from mercato.features._vectors import l2_normalise


class CountingTextEncoder:
    """Hashes words into buckets; counts the texts it is asked to encode."""

    name = "hashing"
    dim = 16

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.calls = 0
        self.texts: list[str] = []

    @property
    def fingerprint(self) -> str:
        return f"hashing:{self.version}"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls += 1
        self.texts.extend(texts)
        vectors = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1
        return l2_normalise(vectors)


class CountingImageEncoder:
    """Mean colour and brightness spread of a picture; counts pictures encoded."""

    name = "colour"
    dim = 4
    fingerprint = "colour:1"

    def __init__(self) -> None:
        self.pictures = 0

    def encode(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        self.pictures += len(images)
        rows = []
        for image in images:
            pixels = np.asarray(image.convert("RGB"), np.float32) / 255.0
            rows.append([*pixels.mean(axis=(0, 1)), pixels.std() + 0.01])
        return l2_normalise(np.asarray(rows, np.float32))


def solid_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (24, 36)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def gif_clip(path: Path, colours: Sequence[tuple[int, int, int]], frame_ms: int = 500) -> Path:
    frames = [Image.new("RGB", (16, 16), colour) for colour in colours]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return path


def tiny_shop(folder: Path) -> Dataset:
    """Five items: good media, a corrupt picture, an empty text, an unreadable clip, a GIF clip.

    item i0: red picture, GIF clip, English text, two reviews
    item i1: corrupt picture file, no clip, Chinese text
    item i2: blue picture, clip file that is not a clip, empty title and description
    item i3: no picture, no clip, text; one review
    item i4: a picture path that does not exist, text
    """
    folder.mkdir(parents=True, exist_ok=True)
    red = solid_image(folder / "red.png", (220, 20, 20))
    blue = solid_image(folder / "blue.jpg", (20, 20, 220))
    corrupt = folder / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    clip = gif_clip(folder / "turn.gif", [(200, 0, 0), (0, 200, 0), (0, 0, 200)])
    broken_clip = folder / "broken.gif"
    broken_clip.write_bytes(b"GIF89a nonsense")

    item_ids = np.array([f"i{index}" for index in range(5)], dtype=object)
    items = pd.DataFrame(
        {
            "item_id": item_ids,
            "title": ["Red cotton dress", "红色连衣裙", "", "Steel hammer", "Blue denim jacket"],
            "description": ["A light summer dress.", "夏季轻便", None, "For nails.", None],
            "category": [
                "Women > Clothing > Dresses",
                "Women > Clothing > Dresses",
                "Men > Clothing > Jackets",
                "Home > Tools",
                None,
            ],
            "brand": ["Aurelle", "Aurelle", "Norcross", None, "Norcross"],
            "price": [30.0, 25.0, np.nan, 12.5, 80.0],
            "attributes": [
                json.dumps({"colour": "red", "size": "M"}),
                json.dumps({"colour": "red"}),
                json.dumps({"colour": "blue", "waterproof": True}),
                "not json",
                None,
            ],
            "image": [str(red), str(corrupt), str(blue), None, str(folder / "missing.png")],
            "video": [str(clip), None, str(broken_clip), None, None],
        },
        index=pd.RangeIndex(5, name="item_idx"),
    )
    user_ids = np.array(["u0", "u1", "u2"], dtype=object)
    reviews = pd.DataFrame(
        {
            "user_idx": np.array([0, 1, 1, -1], np.int32),
            "item_idx": np.array([0, 0, 3, 3], np.int32),
            "rating": [5.0, 3.0, 4.0, np.nan],
            "text": ["Lovely red dress", "Too short", "Solid hammer", ""],
            "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]),
        }
    )
    queries = pd.DataFrame(
        {
            "user_idx": np.array([0, 0, 0, 1, -1], np.int32),
            "session_idx": np.array([0, 0, 1, 2, 3], np.int32),
            "query": ["old hammer", "red dress", "summer dress", "jacket", "anonymous"],
            "timestamp": pd.to_datetime(
                ["2026-01-01", "2026-01-05", "2026-01-06", "2026-01-02", "2026-01-02"]
            ),
            "clicked_items": [[3], [0], [0], [4], []],
        }
    )
    return Dataset(
        name="tiny-media",
        events=pd.DataFrame(columns=["user_idx", "item_idx", "event_type", "timestamp"]),
        items=items,
        users=pd.DataFrame({"user_id": user_ids}, index=pd.RangeIndex(3, name="user_idx")),
        reviews=reviews,
        queries=queries,
        item_ids=item_ids,
        user_ids=user_ids,
        session_ids=np.array(["s0", "s1", "s2", "s3"], dtype=object),
    )
