"""The multimodal item tower on hand-made content: shapes, missing modalities, ids, buffers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mercato.models.sequence._content import Codes, ItemContent, Vectors
from mercato.models.sequence._multimodal import (
    GatedFusion,
    MultimodalItemTower,
    item_content_of,
)

DIM = 6


def content(known: list[bool] | None = None) -> ItemContent:
    """Four items, each with another mix of modalities; item 3 has none at all.

    Item 0: text, picture, category, price. Item 1: text only. Item 2: picture and brand.
    """
    rng = np.random.default_rng(0)
    text = rng.normal(size=(4, 5)).astype(np.float32)
    image = rng.normal(size=(4, 3)).astype(np.float32)
    text[2:] = 0
    image[[1, 3]] = 0
    return ItemContent(
        known=np.array(known if known is not None else [True, True, False, False]),
        vectors={
            "text": Vectors(text, np.array([True, True, False, False])),
            "image": Vectors(image, np.array([True, False, True, False])),
            "price": Vectors(
                np.array([[0.5], [0], [0], [0]], np.float32), np.eye(4, dtype=bool)[0]
            ),
        },
        codes={
            "category": Codes(np.array([[1, 2], [0, 0], [0, 0], [0, 0]]), np.array([2, 3])),
            "brand": Codes(np.array([[0], [0], [1], [0]]), np.array([2])),
        },
    )


def tower(items: ItemContent, **settings: float) -> MultimodalItemTower:
    torch.manual_seed(0)
    return MultimodalItemTower(items, DIM, **settings).eval()


def test_keeps_the_seam_shapes_and_pads_with_zeros() -> None:
    model = tower(content())
    vectors = model(torch.tensor([[0, 1, 2], [4, 4, 0]]))
    assert vectors.shape == (2, 3, DIM)
    assert not vectors[0, 0].any() and not vectors[1, 2].any()  # padding
    torch.testing.assert_close(vectors[0, 1], model.item_vectors()[0])
    assert model.item_vectors().shape == (4, DIM)
    assert model.modality_names == ("id", "text", "image", "price", "category", "brand")


def test_an_item_is_made_of_the_modalities_it_has() -> None:
    items = content()
    vectors = tower(items).item_vectors()
    assert torch.isfinite(vectors).all()
    assert vectors[:3].abs().sum(dim=1).gt(0).all()
    # Item 3 has no content and no training events: nothing to make a vector of.
    assert not vectors[3].any()

    # What an item lacks does not count, whatever its row holds: item 1 has no picture.
    noisy = items.vectors["image"].values.copy()
    noisy[1] = 100.0
    changed = ItemContent(
        items.known,
        {**items.vectors, "image": Vectors(noisy, items.vectors["image"].present)},
        items.codes,
    )
    torch.testing.assert_close(tower(changed).item_vectors(), vectors, rtol=0, atol=0)


def test_every_modality_it_has_moves_an_item() -> None:
    items = content()
    base = tower(items).item_vectors()
    for name in ("text", "image", "price"):
        values = items.vectors[name].values.copy()
        values[0] += 1.0
        changed = ItemContent(
            items.known,
            {**items.vectors, name: Vectors(values, items.vectors[name].present)},
            items.codes,
        )
        moved = tower(changed).item_vectors()
        assert not torch.equal(moved[0], base[0]), name
        torch.testing.assert_close(moved[1:], base[1:], rtol=0, atol=0)


def test_unknown_items_get_no_id_part_and_known_ones_add_it() -> None:
    # Items 2 and 3 have no training events: their id rows are never trained and never read.
    model = tower(content())
    before = model.item_vectors()
    with torch.no_grad():
        model.ids.weight[3:].normal_()  # the rows of items 2 and 3 (shifted ids 3, 4)
        torch.testing.assert_close(model.item_vectors(), before, rtol=0, atol=0)

        # Item 0 is known: its id is a residual on top of its content.
        shift = torch.linspace(-1.0, 1.0, DIM)
        model.ids.weight[1] += shift
        torch.testing.assert_close(model.item_vectors()[0] - before[0], shift)


def test_id_dropout_applies_in_training_only() -> None:
    model = tower(content(known=[True] * 4), id_dropout=0.5)
    items = torch.tensor([1, 2, 3, 4])
    evaluated = model(items)
    torch.testing.assert_close(model(items), evaluated, rtol=0, atol=0)

    model.train()
    draws = torch.stack([model(items) for _ in range(20)])  # [20, 4, D]
    assert (draws != evaluated).any(dim=-1).any(dim=0).all()  # every item lost its id sometimes
    assert (draws == evaluated).all(dim=-1).any(dim=0).all()  # and kept it sometimes


def test_fusion_weights_only_what_is_present() -> None:
    fusion = GatedFusion(n_modalities=3, dim=2)
    parts = torch.tensor(
        [[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]], [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]]
    )
    present = torch.tensor([[True, True, False], [False, False, False]])
    fused = fusion(parts, present)
    torch.testing.assert_close(fused, torch.tensor([[0.5, 0.5], [0.0, 0.0]]))

    # Nothing present is zero with a finite gradient, not NaN.
    fused.sum().backward()
    assert fusion.gates.grad is not None and torch.isfinite(fusion.gates.grad).all()


def test_the_features_are_buffers_that_rebuild_the_tower() -> None:
    items = content()
    model = tower(items)
    state = model.state_dict()
    assert {"known", "modalities.text.values", "modalities.category.codes"} <= set(state)
    assert not any(parameter is state["modalities.text.values"] for parameter in model.parameters())

    again = item_content_of(state)
    assert list(again.vectors) == list(items.vectors) and list(again.codes) == list(items.codes)
    rebuilt = MultimodalItemTower(again, DIM).eval()
    rebuilt.load_state_dict(state)
    torch.testing.assert_close(rebuilt.item_vectors(), model.item_vectors(), rtol=0, atol=0)


def test_without_features_it_is_the_id_tower() -> None:
    model = tower(ItemContent(np.ones(3, dtype=bool), {}, {}))
    torch.testing.assert_close(model.item_vectors(), model.ids.weight[1:], rtol=0, atol=0)


@pytest.mark.parametrize("missing", ["text", "image", "price", "category", "brand"])
def test_any_single_modality_can_be_absent_from_the_catalogue(missing: str) -> None:
    items = content()
    reduced = ItemContent(
        items.known,
        {name: entry for name, entry in items.vectors.items() if name != missing},
        {name: entry for name, entry in items.codes.items() if name != missing},
    )
    vectors = tower(reduced).item_vectors()
    assert vectors.shape == (4, DIM) and torch.isfinite(vectors).all()
    assert missing not in tower(reduced).modality_names
