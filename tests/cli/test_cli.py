"""The command line, run in-process through typer's runner: exit codes, messages, outputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mercato.cli import app
from mercato.data import Store

runner = CliRunner()

COMMANDS = ("demo", "ingest", "info", "formats", "benchmark", "evaluate")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])

    assert result.exit_code == 0
    assert "Usage" in result.output


def test_demo_builds_ingests_and_ranks_the_shop(tmp_path: Path) -> None:
    store = tmp_path / "demo.duckdb"

    result = runner.invoke(app, ["demo", "--size", "tiny", "--store", str(store), "--quiet"])

    assert result.exit_code == 0, result.output
    summary = Store(store).summary()
    assert summary.rows["events"] > 500
    assert summary.coverage["image"] == summary.coverage["catalogue"]
    assert "leaderboard" in result.output
    assert "itemknn" in result.output


def _write_events(folder: Path, rows: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.csv"
    path.write_text("user_id,item_id,event_type,timestamp\n" + "\n".join(rows) + "\n")
    return path


def test_ingest_then_info(tmp_path: Path) -> None:
    source = _write_events(
        tmp_path / "shop", ["007,0101,view,2026-01-01 10:00", "007,0102,purchase,2026-01-02"]
    )
    store = tmp_path / "s.duckdb"

    ingested = runner.invoke(app, ["ingest", str(source), "--store", str(store), "--quiet"])
    info = runner.invoke(app, ["info", "--store", str(store)])

    assert ingested.exit_code == 0, ingested.output
    assert "2 events" in ingested.output
    assert info.exit_code == 0
    assert "purchase events" in info.output


def test_bad_input_exits_non_zero_with_one_line_reason(tmp_path: Path) -> None:
    source = _write_events(tmp_path / "shop", ["007,0101,teleport,2026-01-01"])
    store = tmp_path / "s.duckdb"

    result = runner.invoke(app, ["ingest", str(source), "--store", str(store), "--quiet"])

    assert result.exit_code == 1
    reason = result.output.strip()
    assert reason.startswith("error:")
    assert "unknown event type" in reason
    assert "Traceback" not in result.output
    assert not store.exists()


def test_unknown_format_names_the_known_ones(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path), "--format", "nope"])

    assert result.exit_code == 1
    assert "amazon-seq" in result.output


def test_info_without_store_says_how_to_make_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["info", "--store", str(tmp_path / "missing.duckdb")])

    assert result.exit_code == 1
    assert "mercato ingest" in result.output


def test_evaluate_prints_a_leaderboard(tmp_path: Path) -> None:
    store = tmp_path / "demo.duckdb"
    runner.invoke(app, ["demo", "--size", "tiny", "--store", str(store), "--quiet"])

    result = runner.invoke(
        app, ["evaluate", "--store", str(store), "--models", "pop,itemknn", "--quiet"]
    )

    assert result.exit_code == 0, result.output
    assert "pop" in result.output
    assert "p=" in result.output


def test_benchmark_writes_the_results_file(
    tmp_path: Path, data_root: Path, public_dataset: Callable[[str], Path]
) -> None:
    public_dataset("movielens-100k-recbole")
    out = tmp_path / "pop.json"
    root = ("--data-root", str(data_root))

    result = runner.invoke(
        app,
        ["benchmark", "ml100k-loo", "--model", "pop", "--out", str(out), "--quiet", *root],
    )

    assert result.exit_code == 0, result.output
    results = json.loads(out.read_text())
    assert results["protocol"] == "ml100k-loo"
    assert results["n_eval_users"] == 943
    assert set(results["metrics"]) == {"HR@10", "NDCG@10"}
    low, high = results["ci95"]["NDCG@10"]
    assert low <= results["metrics"]["NDCG@10"] <= high


def test_bad_grid_is_a_clear_error(data_root: Path) -> None:
    root = ("--data-root", str(data_root))
    result = runner.invoke(
        app,
        ["benchmark", "ml100k-loo", "--model", "pop", "--grid", "{not json", "--quiet", *root],
    )

    assert result.exit_code == 1
    assert "--grid is not valid JSON" in result.output
