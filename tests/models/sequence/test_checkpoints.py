"""Training checkpoints: a fit stopped part-way resumes and ends with the very same model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mercato.data import Dataset
from mercato.models import Recommender, get_model
from mercato.models.sequence import _loop

from .content import content_shop, fast_encoders, with_item
from .planted import cycles

# Dropout on, so that a resumed run matches only if torch's random state was restored too.
SETTINGS: dict[str, Any] = {
    "embedding_dim": 8,
    "max_len": 6,
    "n_blocks": 1,
    "max_epochs": 6,
    "patience": 6,
    "dropout": 0.3,
    "batch_size": 32,
    "lr": 1e-2,
}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return cycles(n_sequences=60, steps=6)[1]


class StoppedError(Exception):
    """What the interrupted runs below are stopped with."""


def counting_epochs(monkeypatch: pytest.MonkeyPatch, stop_at: int | None = None) -> list[int]:
    """Counts the loop's training passes; with ``stop_at``, raises ``StoppedError`` on that pass."""
    calls: list[int] = []
    real_epoch: Callable[..., float] = _loop._epoch

    def epoch(*args: Any, **kwargs: Any) -> float:
        calls.append(len(calls) + 1)
        if stop_at is not None and len(calls) == stop_at:
            raise StoppedError
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(_loop, "_epoch", epoch)
    return calls


def scores(model: Recommender[Any], dataset: Dataset) -> np.ndarray:
    return model.score_users(np.arange(dataset.n_users))


@pytest.mark.parametrize(("refit", "stop_at"), [(False, 4), (True, 3), (True, 9)])
def test_an_interrupted_fit_resumes_to_the_same_model(
    dataset: Dataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    refit: bool,
    stop_at: int,
) -> None:
    # With the refit, pass 9 is in the refit (6 early-stopped passes, then 6 again).
    expected = scores(get_model("sasrec", refit=refit, **SETTINGS).fit(dataset), dataset)

    with monkeypatch.context() as patch:
        counting_epochs(patch, stop_at=stop_at)
        with pytest.raises(StoppedError):
            get_model("sasrec", refit=refit, checkpoint_dir=tmp_path, **SETTINGS).fit(dataset)

    with monkeypatch.context() as patch:
        passes = counting_epochs(patch)
        resumed = get_model("sasrec", refit=refit, checkpoint_dir=tmp_path, **SETTINGS)
        np.testing.assert_array_equal(scores(resumed.fit(dataset), dataset), expected)
    total = 12 if refit else 6
    assert len(passes) == total - (stop_at - 1)  # only the passes that had not run

    assert not list(tmp_path.glob(".*partial"))  # every write was completed and renamed


def test_a_finished_run_is_not_trained_again(
    dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = get_model("sasrec", checkpoint_dir=tmp_path, **SETTINGS).fit(dataset)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "sasrec-refit.pt",
        "sasrec-train.pt",
    ]
    passes = counting_epochs(monkeypatch)
    again = get_model("sasrec", checkpoint_dir=tmp_path, **SETTINGS).fit(dataset)
    assert passes == []
    np.testing.assert_array_equal(scores(again, dataset), scores(first, dataset))


def test_a_checkpoint_of_another_run_is_ignored(
    dataset: Dataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    get_model("sasrec", refit=False, checkpoint_dir=tmp_path, **SETTINGS).fit(dataset)

    other = {**SETTINGS, "lr": 5e-3}
    expected = scores(get_model("sasrec", refit=False, **other).fit(dataset), dataset)
    passes = counting_epochs(monkeypatch)
    changed = get_model("sasrec", refit=False, checkpoint_dir=tmp_path, **other).fit(dataset)
    assert len(passes) == other["max_epochs"]
    np.testing.assert_array_equal(scores(changed, dataset), expected)
    assert "written for other data or settings" in caplog.text


def test_a_content_models_checkpoint_is_ignored_once_the_catalogue_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shop = content_shop(tmp_path / "pictures")
    settings = {**SETTINGS, "max_epochs": 2, "refit": False, "progress": False}

    def fit(dataset: Dataset) -> None:
        model = get_model(
            "multimodal", encoders=fast_encoders(), checkpoint_dir=tmp_path, **settings
        )
        model.fit(dataset)

    fit(shop.dataset)
    passes = counting_epochs(monkeypatch)
    fit(shop.dataset)  # the same run: resumed at its end
    assert passes == []

    # Same events, one item described anew: its feature vectors differ, so the run does too.
    fit(with_item(shop.dataset, 0, title="wool winter coat warm"))
    assert len(passes) == 2
    assert "written for other data or settings" in caplog.text
