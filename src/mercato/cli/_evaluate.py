"""The evaluation commands: ``mercato benchmark`` (a protocol), ``mercato evaluate`` (own data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mercato.cli._app import QuietOption, StoreOption, _reasons, app, console
from mercato.cli._render import render_leaderboard
from mercato.data import DEFAULT_STORE, Store
from mercato.errors import ConfigError
from mercato.evaluate import data_root, evaluate_models, run_benchmark
from mercato.evaluate._grids import default_grid

__all__: list[str] = []


@app.command("benchmark")
@_reasons
def benchmark_command(
    protocol: Annotated[
        str, typer.Argument(help="beauty-loo, diginetica-session, hm-multimodal or ml100k-loo.")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="A registered model name.")],
    out: Annotated[Path | None, typer.Option(help="Write the results JSON here.")] = None,
    tune: Annotated[
        bool, typer.Option(help="Grid-search the model's default grid on validation.")
    ] = False,
    grid: Annotated[
        str | None, typer.Option(help="A grid as JSON, e.g. '{\"factors\": [64, 128]}'.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data-root", help="The public datasets folder.")
    ] = None,
    topk: Annotated[
        Path | None, typer.Option(help="Also write the test top-k lists (.npz).")
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Run one model on one protocol and write the results file."""
    search = _grid(grid) if grid else (default_grid(model) if tune else None)
    result = run_benchmark(
        protocol, model, root=data_root(data), grid=search, progress=not quiet, topk_path=topk
    )
    if out is not None:
        result.write(out)

    table = Table(
        title=f"{model} on {protocol} ({result.n_eval_users:,} users)", title_justify="left"
    )
    for column in ("metric", "value", "95% interval"):
        table.add_column(column)
    for name, value in result.metrics.items():
        low, high = result.ci95[name]
        table.add_row(name, f"{value:.4f}", f"[{low:.4f}, {high:.4f}]")
    console.print(table)
    console.print(
        f"train {result.train_seconds:.1f}s, evaluation {result.eval_seconds:.1f}s, "
        f"peak memory {result.peak_rss_mb:.0f} MB; config {result.config}",
        highlight=False,
    )


@app.command("evaluate")
@_reasons
def evaluate_command(
    models: Annotated[
        str, typer.Option(help="Comma-separated model names.")
    ] = "pop,itemknn,ease,als",
    store: StoreOption = DEFAULT_STORE,
    split: Annotated[str, typer.Option(help="leave-last-out or temporal.")] = "leave-last-out",
    k: Annotated[int, typer.Option(help="List length for the metrics.")] = 10,
    quiet: QuietOption = False,
) -> None:
    """Evaluate several models on your own store and print a leaderboard with intervals."""
    names = [name.strip() for name in models.split(",") if name.strip()]
    metrics = (f"NDCG@{k}", f"HR@{k}", f"MRR@{k}")
    board = evaluate_models(
        Store(store).dataset(), names, metrics=metrics, split=split, progress=not quiet
    )
    render_leaderboard(console, board)


def _grid(text: str) -> dict[str, list[Any]]:
    try:
        grid = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"--grid is not valid JSON ({error}); e.g. '{{\"factors\": [64, 128]}}'"
        ) from error
    if not isinstance(grid, dict) or not all(isinstance(v, list) for v in grid.values()):
        raise ConfigError("--grid must be a JSON object of lists, e.g. '{\"factors\": [64, 128]}'")
    return grid
