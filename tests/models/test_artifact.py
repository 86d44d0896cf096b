"""Model artifacts: atomic replacement, refusing foreign directories, clear load errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mercato import __version__
from mercato.errors import DataError
from mercato.models import ItemKNN, Popularity, load_model

from .data import tiny_shop


def test_model_json_records_name_config_and_version(tmp_path: Path) -> None:
    path = ItemKNN(k_neighbours=3).fit(tiny_shop()).save(tmp_path / "knn")
    meta = json.loads((path / "model.json").read_text())
    assert meta["name"] == "itemknn"
    assert meta["config"]["k_neighbours"] == 3
    assert meta["mercato_version"] == __version__


def test_a_failed_save_leaves_the_old_model_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tiny_shop()
    path = Popularity().fit(shop).save(tmp_path / "model")
    before = load_model(path).score_users(np.arange(3))

    def broken_savez(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        ItemKNN().fit(shop).save(path)
    monkeypatch.undo()

    assert [entry.name for entry in tmp_path.iterdir()] == ["model"]
    np.testing.assert_array_equal(load_model(path).score_users(np.arange(3)), before)


def test_save_refuses_to_replace_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a mercato model directory"):
        Popularity().fit(tiny_shop()).save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_loading_something_else_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"model\.json: not a mercato model directory"):
        load_model(tmp_path)
    path = Popularity().fit(tiny_shop()).save(tmp_path / "pop")
    meta = json.loads((path / "model.json").read_text())
    (path / "model.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(DataError, match="unsupported model artifact format"):
        load_model(path)
