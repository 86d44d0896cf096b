"""The ``mercato`` command line: one typer app over the whole package."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from mercato.cli._render import render_ingest, render_leaderboard, render_summary
from mercato.data import DEFAULT_STORE, CleaningConfig, Store, adapter_names, get_adapter, ingest
from mercato.errors import MercatoError
from mercato.evaluate import evaluate_models

__all__ = ["app", "main"]

app = typer.Typer(
    name="mercato",
    help="Multimodal user-behaviour modelling and analysis for e-commerce platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Piped output (CI logs, files) gets room for the leaderboard instead of rich's 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=140)
errors = Console(stderr=True)

#: The baselines the demo compares on its own shop.
DEMO_MODELS = ("pop", "itemknn", "userknn", "ease", "als", "bpr")

P = ParamSpec("P")
R = TypeVar("R")

StoreOption = Annotated[
    Path, typer.Option("--store", "-s", help="The DuckDB store file.", show_default=True)
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _reasons(command: Callable[P, R]) -> Callable[P, R]:
    """Turn mercato's own errors into a one-line reason and exit code 1, never a traceback."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except MercatoError as error:
            errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return run


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each phase.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command("ingest")
@_reasons
def ingest_command(
    source: Annotated[Path, typer.Argument(help="A folder or file in the given format.")],
    format_name: Annotated[
        str, typer.Option("--format", "-f", help="Source format (see 'mercato formats').")
    ] = "generic",
    store: StoreOption = DEFAULT_STORE,
    dedupe: Annotated[bool, typer.Option(help="Drop exact duplicate events.")] = False,
    k_core: Annotated[int, typer.Option(help="Keep users and items with >= K events.")] = 0,
    start: Annotated[
        datetime | None, typer.Option(help="Keep events at or after this time.")
    ] = None,
    end: Annotated[datetime | None, typer.Option(help="Keep events before this time.")] = None,
    outlier_price_mads: Annotated[
        float | None,
        typer.Option(help="Set prices this many MADs from their item's median to missing."),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Validate, clean and store a shop's data; a failed ingest leaves the old store as it was."""
    cleaning = CleaningConfig(
        dedupe=dedupe, k_core=k_core, start=start, end=end, outlier_price_mads=outlier_price_mads
    )
    shop = get_adapter(format_name).read(source)
    report = ingest(shop, store, cleaning=cleaning, progress=not quiet)
    render_ingest(console, report)


@app.command("info")
@_reasons
def info_command(store: StoreOption = DEFAULT_STORE) -> None:
    """Summarise a store: counts, time span, sparsity, modality coverage, repeat purchases."""
    render_summary(console, Store(store).path, Store(store).summary())


@app.command("formats")
def formats_command() -> None:
    """List the source formats that 'mercato ingest --format' reads."""
    for name in adapter_names():
        console.print(f"[bold]{name:<22}[/] {get_adapter(name).description}", highlight=False)


@app.command("demo")
@_reasons
def demo_command(
    size: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    store: Annotated[Path, typer.Option(help="Where to write the demo store.")] = Path(
        ".mercato/demo.duckdb"
    ),
    quiet: QuietOption = False,
) -> None:
    """Build the demo shop (with known ground truth), ingest it and print its summary."""
    from mercato.cli._demo import build_demo_source

    shop = build_demo_source(size, seed, media_dir=store.parent / "demo-media", progress=not quiet)
    report = ingest(shop, store, progress=not quiet)
    render_ingest(console, report)
    render_summary(console, store, Store(store).summary())

    # The shop's own leaderboard: each baseline on every user's last event, with intervals.
    board = evaluate_models(Store(store).dataset(), DEMO_MODELS, progress=not quiet)
    render_leaderboard(console, board)


def main() -> None:
    """Entry point of the ``mercato`` script."""
    app()
