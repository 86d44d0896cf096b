"""Words of the demo shop: item titles and descriptions, review texts and search queries.

English or Chinese per item (titles) and per user (reviews, queries), always built from the
words of the item concerned, so text models can link text to items and ratings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mercato.demo._vocab import (
    BRAND_NAMES,
    CATEGORIES,
    COLOURS,
    FEATURE_LABELS,
    QUERIES_EN,
    QUERIES_ZH,
    REVIEWS_EN,
    REVIEWS_ZH,
    SELLING_POINTS,
    STYLES,
    TOP_LEVELS_ZH,
)
from mercato.demo._world import DemoTruth, FloatArray, IntArray, ItemLooks

__all__ = ["ItemText", "ItemWords", "item_attributes", "item_texts", "query_texts", "review_texts"]


@dataclass(frozen=True)
class _Words:
    """The words describing one item in one language."""

    noun: str
    colour: str
    feature: str
    brand: str
    style: str
    top: str


@dataclass(frozen=True)
class ItemText:
    """Title and description of every item, in item order."""

    titles: list[str]
    descriptions: list[str]


@dataclass(frozen=True)
class ItemWords:
    """The words of every item in both languages, looked up once and reused for every text."""

    english: list[_Words]
    chinese: list[_Words]

    @classmethod
    def of(cls, truth: DemoTruth, looks: ItemLooks) -> ItemWords:
        items = range(len(truth.item_ids))
        return cls(
            english=[_words(truth, looks, item, chinese=False) for item in items],
            chinese=[_words(truth, looks, item, chinese=True) for item in items],
        )

    def of_item(self, item: int, chinese: bool) -> _Words:
        return self.chinese[item] if chinese else self.english[item]


def _words(truth: DemoTruth, looks: ItemLooks, item: int, chinese: bool) -> _Words:
    language = 1 if chinese else 0
    spec = CATEGORIES[truth.item_category[item]]
    top = TOP_LEVELS_ZH[spec.top_level] if chinese else spec.top_level.lower()
    return _Words(
        noun=spec.noun[language],
        colour=COLOURS[looks.colour[item]][language],
        feature=spec.values[looks.feature_value[item]][language],
        brand=BRAND_NAMES[looks.brand[item]],
        style=STYLES[looks.style[item]][language],
        top=top,
    )


def item_attributes(truth: DemoTruth, item_words: ItemWords) -> list[dict[str, str]]:
    """The ``attributes`` of every item: colour, the category's feature, and style (English)."""
    attributes = []
    for item, words in enumerate(item_words.english):
        spec = CATEGORIES[truth.item_category[item]]
        attributes.append(
            {"colour": words.colour, spec.feature: words.feature, "style": words.style}
        )
    return attributes


def item_texts(truth: DemoTruth, item_words: ItemWords, rng: np.random.Generator) -> ItemText:
    """Titles like 'Aurelle Classic Red Leather Sneakers' and short descriptions.

    Items flagged in ``truth.chinese_items`` get Chinese text only, the rest English only.
    """
    selling = rng.integers(0, len(SELLING_POINTS), len(truth.item_ids))
    titles, descriptions = [], []
    for item in range(len(truth.item_ids)):
        chinese = bool(truth.chinese_items[item])
        words = item_words.of_item(item, chinese)
        label = FEATURE_LABELS[CATEGORIES[truth.item_category[item]].feature][1 if chinese else 0]
        point = SELLING_POINTS[selling[item]][1 if chinese else 0]
        if chinese:
            titles.append(f"{words.brand} {words.style}{words.colour}{words.feature}{words.noun}")
            descriptions.append(
                f"{words.brand}{words.style}{words.noun}。颜色：{words.colour}。"
                f"{label}：{words.feature}。{point}"
            )
        else:
            titles.append(
                f"{words.brand} {words.style} {words.colour} {words.feature} {words.noun}".title()
            )
            descriptions.append(
                f"{words.style.capitalize()} {words.noun} by {words.brand}. Colour: "
                f"{words.colour}. {label}: {words.feature}. {point}"
            )
    return ItemText(titles=titles, descriptions=descriptions)


def review_texts(
    truth: DemoTruth,
    item_words: ItemWords,
    user: IntArray,
    item: IntArray,
    rating: FloatArray,
    rng: np.random.Generator,
) -> list[str]:
    """One review per row, in the user's language, worded after its star rating."""
    variant = rng.integers(0, len(REVIEWS_EN[0]), len(user))
    texts = []
    for row in range(len(user)):
        chinese = bool(truth.chinese_users[user[row]])
        words = item_words.of_item(int(item[row]), chinese)
        templates = REVIEWS_ZH if chinese else REVIEWS_EN
        template = templates[int(rating[row]) - 1][variant[row]]
        texts.append(template.format(noun=words.noun, colour=words.colour, brand=words.brand))
    return texts


def query_texts(
    truth: DemoTruth,
    item_words: ItemWords,
    user: IntArray,
    item: IntArray,
    rng: np.random.Generator,
) -> list[str]:
    """One search query per row, in the user's language, made of the clicked item's words."""
    pattern = rng.integers(0, len(QUERIES_EN), len(user))
    queries = []
    for row in range(len(user)):
        chinese = bool(truth.chinese_users[user[row]])
        words = item_words.of_item(int(item[row]), chinese)
        template = (QUERIES_ZH if chinese else QUERIES_EN)[pattern[row]]
        query = template.format(
            colour=words.colour,
            feature=words.feature,
            brand=words.brand,
            noun=words.noun,
            top=words.top,
        )
        queries.append(query if chinese else query.lower())
    return queries
