"""A generated catalogue whose content tells its taste groups apart, for the content models.

Each group of items shares title words, a category, a brand, a price band, attribute values and
a picture colour; each user buys within one group. Some items of every group are never bought
(cold): only their content says which group they belong to.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from PIL import Image

from mercato.data import Dataset
from mercato.features import ItemEncoders, TfidfEncoder

from ..data import make_dataset

GROUPS = (
    ("linen summer shirt breezy", "Men > Shirts", "Breeze", "red", (200, 30, 30)),
    ("wool winter coat warm", "Women > Coats", "Nordic", "navy", (20, 30, 160)),
    ("leather running shoe light", "Sport > Shoes", "Stride", "white", (235, 235, 235)),
    ("silk evening dress elegant", "Women > Dresses", "Soir", "green", (30, 150, 60)),
)


class MeanColourEncoder:
    """A tiny image encoder for tests: a picture's mean colour, unit length (width 4)."""

    name = "mean-colour"
    dim = 4
    fingerprint = "mean-colour:v1"

    def encode(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        rows = [
            np.r_[np.asarray(image.convert("RGB"), np.float32).mean((0, 1)) / 255, 0.5]
            for image in images
        ]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(images), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fast_encoders() -> ItemEncoders:
    """TF-IDF text and the mean-colour image encoder: fast, and enough to tell groups apart."""
    return ItemEncoders(text=TfidfEncoder(dim=16), image=MeanColourEncoder(), video=None)


@dataclass(frozen=True)
class ContentShop:
    """The shop, which group each item and user belongs to, and which items are cold."""

    dataset: Dataset
    item_groups: NDArray[np.int64]  # [I]
    user_groups: NDArray[np.int64]  # [U]
    cold: NDArray[np.bool_]  # [I] items without events


def content_shop(
    folder: Path,
    *,
    items_per_group: int = 8,
    cold_per_group: int = 2,
    users_per_group: int = 12,
    events_per_user: int = 6,
    seed: int = 0,
) -> ContentShop:
    """Users who each buy ``events_per_user`` warm items of their group; pictures in ``folder``."""
    rng = np.random.default_rng(seed)
    n_groups = len(GROUPS)
    item_groups = np.repeat(np.arange(n_groups), items_per_group)
    cold = np.tile(np.arange(items_per_group) >= items_per_group - cold_per_group, n_groups)
    user_groups = np.repeat(np.arange(n_groups), users_per_group)

    rows = []
    for user, group in enumerate(user_groups):
        warm = np.flatnonzero((item_groups == group) & ~cold)
        for step, item in enumerate(rng.choice(warm, size=events_per_user)):
            rows.append((user, int(item), pd.Timestamp("2024-01-01") + pd.Timedelta(hours=step)))
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx", "timestamp"])
    frame["event_type"] = "purchase"
    dataset = make_dataset(frame, n_users=len(user_groups), n_items=len(item_groups))
    items = catalogue(dataset.item_ids, item_groups, rng, folder)
    return ContentShop(dataclasses.replace(dataset, items=items), item_groups, user_groups, cold)


def catalogue(
    item_ids: NDArray[np.object_],
    item_groups: NDArray[np.int64],
    rng: np.random.Generator,
    pictures: Path | None = None,
) -> pd.DataFrame:
    """The items table: every field drawn from the item's group, with a little noise; with a
    picture per item, written to ``pictures``, when given."""
    rows = []
    for item_id, group in zip(item_ids, item_groups, strict=True):
        words, category, brand, colour, rgb = GROUPS[group]
        row = {
            "item_id": item_id,
            "title": " ".join(rng.permutation(words.split())[:3]),
            "description": f"{words} {item_id}",
            "category": category,
            "brand": brand,
            "price": float(10 * 3**group * rng.uniform(0.9, 1.1)),
            "attributes": json.dumps({"colour": colour, "group": f"g{group}"}),
        }
        if pictures is not None:
            pictures.mkdir(parents=True, exist_ok=True)
            shade = np.clip(np.asarray(rgb) + rng.integers(-10, 11, size=3), 0, 255)
            row["image"] = str(pictures / f"{item_id}.png")
            Image.new("RGB", (8, 8), tuple(int(value) for value in shade)).save(row["image"])
        rows.append(row)
    return pd.DataFrame(rows)


OTHER_GROUP = 2  # what item 0 (group 0) is changed into


def changed_item(shop: ContentShop, modality: str) -> pd.DataFrame:
    """Item 0's ``modality`` replaced by that of an item of another group."""
    donor = int(np.flatnonzero(shop.item_groups == OTHER_GROUP)[0])
    columns = {
        "text": ["title", "description"],
        "image": ["image"],
        "category": ["category"],
        "brand": ["brand"],
        "attributes": ["attributes"],
        "price": ["price"],
    }[modality]
    items = shop.dataset.items.copy()
    items.loc[0, columns] = items.loc[donor, columns].to_numpy()
    return items


def with_item(dataset: Dataset, item: int, **fields: object) -> Dataset:
    """The dataset with some catalogue fields of one item changed."""
    items = dataset.items.copy()
    for column, value in fields.items():
        items.loc[item, column] = value
    return dataclasses.replace(dataset, items=items)


def cold_ranking_auc(scores: NDArray[np.float32], shop: ContentShop) -> float:
    """How often a user's own-group cold item outscores another group's cold item (0.5: chance).

    Users ``[U]`` score rows of ``scores``; only cold items are compared, so a model that knows
    nothing of cold items (an id-only model never trains their ids) sits near chance.
    """
    wins = []
    cold_items = np.flatnonzero(shop.cold)
    for user, group in enumerate(shop.user_groups):
        own = cold_items[shop.item_groups[cold_items] == group]
        other = cold_items[shop.item_groups[cold_items] != group]
        wins.append((scores[user, own][:, None] > scores[user, other][None, :]).mean())
    return float(np.mean(wins))
