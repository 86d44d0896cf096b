"""``mercato train``, ``recommend`` and ``features`` on the tiny demo shop, run in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mercato.cli import app
from mercato.data import Dataset, Store

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "demo.duckdb"
    result = runner.invoke(app, ["demo", "--size", "tiny", "--store", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def dataset(store: Path) -> Dataset:
    return Store(store).dataset()


@pytest.fixture(scope="module")
def model_dir(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "itemknn"
    args = ["--model", "itemknn", "--store", str(store), "--out", str(out)]
    result = runner.invoke(app, ["train", *args, "--set", "k_neighbours=20"])
    assert result.exit_code == 0, result.output
    assert "trained" in result.output
    assert (out / "model.json").exists()
    return out


@pytest.mark.parametrize("command", ["train", "recommend", "features"])
def test_every_model_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])

    assert result.exit_code == 0
    assert "Usage" in result.output


def _recommend(store: Path, model_dir: Path, *args: str) -> list[str]:
    """The item ids of the table's rows, after a successful ``mercato recommend``."""
    base = ["recommend", "--model-dir", str(model_dir), "--store", str(store)]
    result = runner.invoke(app, [*base, *args])
    assert result.exit_code == 0, result.output
    return [line.split("│")[2].strip() for line in result.output.splitlines() if "│" in line]


def test_recommend_for_a_known_user(store: Path, model_dir: Path, dataset: Dataset) -> None:
    user = str(dataset.user_ids[0])

    items = _recommend(store, model_dir, "--user", user, "-k", "5")

    assert len(items) == 5
    assert set(items) <= {str(item) for item in dataset.item_ids}
    seen = dataset.events.loc[dataset.events["user_idx"] == 0, "item_idx"]
    assert not set(items) & {str(dataset.item_ids[i]) for i in seen}


def test_recommend_after_a_session(store: Path, model_dir: Path, dataset: Dataset) -> None:
    session = [str(item) for item in dataset.item_ids[:3]]

    items = _recommend(store, model_dir, "--session", " ".join(session), "-k", "4")

    assert len(items) == 4
    assert set(items) <= {str(item) for item in dataset.item_ids}
    assert not set(items) & set(session)


def test_an_unknown_user_is_a_one_line_reason(store: Path, model_dir: Path) -> None:
    args = ["--model-dir", str(model_dir), "--store", str(store), "--user", "nobody"]
    result = runner.invoke(app, ["recommend", *args])

    assert result.exit_code == 1
    assert result.output.startswith("error:")
    assert len(result.output.strip().splitlines()) == 1
    assert "'nobody'" in result.output
    assert "Traceback" not in result.output


def test_a_bad_setting_is_a_config_error(store: Path, tmp_path: Path) -> None:
    args = ["--model", "itemknn", "--store", str(store), "--out", str(tmp_path / "m")]
    result = runner.invoke(app, ["train", *args, "--set", "no_such_setting=1"])

    assert result.exit_code == 1
    assert "error:" in result.output
    assert "no_such_setting" in result.output
    assert not (tmp_path / "m").exists()


def test_features_with_tfidf_are_saved_with_coverage(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.npz"
    args = ["--store", str(store), "--out", str(out), "--text", "tfidf", "--quiet"]
    result = runner.invoke(app, ["features", *args])

    assert result.exit_code == 0, result.output
    assert out.exists()
    assert len(np.load(out, allow_pickle=True).files) > 0
    n_items = Store(store).summary().n_items
    assert f"{n_items} of {n_items}" in result.output
    assert "text" in result.output


def test_train_saves_checkpoints_where_asked(store: Path, tmp_path: Path) -> None:
    checkpoints = tmp_path / "checkpoints"
    args = ["--model", "gru4rec", "--store", str(store), "--out", str(tmp_path / "m")]
    settings = ["--set", "max_epochs=2", "--set", "embedding_dim=8", "--set", "refit=false"]
    result = runner.invoke(app, ["train", *args, *settings, "--checkpoint-dir", str(checkpoints)])

    assert result.exit_code == 0, result.output
    assert [path.name for path in checkpoints.iterdir()] == ["gru4rec-train.pt"]


def test_checkpoints_are_refused_for_a_model_without_epochs(store: Path, tmp_path: Path) -> None:
    args = ["--model", "itemknn", "--store", str(store), "--out", str(tmp_path / "m")]
    result = runner.invoke(app, ["train", *args, "--checkpoint-dir", str(tmp_path / "c")])

    assert result.exit_code == 1
    assert "--checkpoint-dir" in result.output and "'itemknn'" in result.output
    assert not (tmp_path / "m").exists() and not (tmp_path / "c").exists()
