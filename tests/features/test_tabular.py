"""Prices, labels, category paths and JSON attributes as model-ready numbers."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from mercato.features import (
    encode_attributes,
    encode_category_paths,
    encode_labels,
    encode_prices,
)


def test_prices_are_log_standardised_with_a_missing_flag() -> None:
    prices = encode_prices([10.0, 100.0, np.nan, -5.0, 1000.0, np.inf])
    assert prices.missing.tolist() == [False, False, True, True, False, True]
    known = prices.value[~prices.missing]
    assert known.mean() == pytest.approx(0.0, abs=1e-6) and known.std() == pytest.approx(1.0)
    assert (prices.value[prices.missing] == 0).all() and prices.value.dtype == np.float32
    assert np.log1p(100.0) == pytest.approx(prices.log_mean + prices.value[1] * prices.log_std)


def test_a_single_or_no_price_does_not_divide_by_zero() -> None:
    assert encode_prices([5.0]).value.tolist() == [0.0]
    empty = encode_prices([np.nan, np.nan])
    assert empty.missing.all() and empty.log_std == 1.0


def test_labels_get_sorted_codes_with_zero_for_missing() -> None:
    codes, vocab = encode_labels(["Norcross", None, "Aurelle", "Norcross", " ", float("nan")])
    assert vocab == ("", "Aurelle", "Norcross")
    assert codes.tolist() == [2, 0, 1, 2, 0, 0] and codes.dtype == np.int32


def test_category_paths_get_one_code_per_level_keyed_by_the_prefix() -> None:
    categories = encode_category_paths(
        ["Men > Shoes > Boots", "Women > Shoes", "Women>Shoes>Boots", None]
    )
    assert categories.codes.shape == (4, 3)
    assert categories.vocab[1] == ("", "Men > Shoes", "Women > Shoes")
    assert categories.codes[:, 1].tolist() == [1, 2, 2, 0]  # Men's and Women's shoes differ
    assert categories.codes[:, 2].tolist() == [1, 0, 2, 0]
    assert encode_category_paths(["A > B > C"], max_depth=2).codes.shape == (1, 2)


def test_attributes_are_coded_per_key_and_bad_json_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    values = [
        json.dumps({"colour": "red", "size": "M", "tags": ["a", "b"]}),
        {"colour": "blue", "waterproof": True},
        "{not json",
        None,
    ]
    with caplog.at_level(logging.WARNING, logger="mercato.features"):
        attributes = encode_attributes(values, ["i0", "i1", "i2", "i3"])
    assert attributes.names == ("colour", "size", "waterproof")  # the list-valued tag is skipped
    assert attributes.codes.tolist() == [[2, 1, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0]]
    assert attributes.vocab[0] == ("", "blue", "red") and attributes.vocab[2] == ("", "true")
    assert "item i2" in caplog.text and "not a JSON object" in caplog.text


def test_attributes_with_too_many_values_are_left_out() -> None:
    values = [json.dumps({"serial": str(index), "colour": "red"}) for index in range(5)]
    attributes = encode_attributes(values, [f"i{index}" for index in range(5)], max_values=3)
    assert attributes.names == ("colour",)
