"""How the CLI shows reports: rich tables, never logs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from mercato.data import IngestReport, StoreSummary
from mercato.evaluate import Leaderboard

__all__ = ["render_ingest", "render_leaderboard", "render_summary"]


def render_ingest(console: Console, report: IngestReport) -> None:
    rows = ", ".join(f"{count:,} {table}" for table, count in report.rows.items())
    console.print(
        f"[green]ingested[/] {report.source} into {report.store}: {rows} in {report.seconds:.1f}s",
        highlight=False,
    )
    for step in report.cleaning:
        console.print(f"  cleaning {step.name}: {step.detail}", highlight=False)


def render_summary(console: Console, store: Path, summary: StoreSummary) -> None:
    table = Table(title=f"{summary.source} ({store})", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")

    for name, count in summary.rows.items():
        table.add_row(f"{name}", f"{count:,}")
    for name, count in summary.event_types.items():
        table.add_row(f"  {name} events", f"{count:,}")
    table.add_row("users / items / sessions", _counts(summary))
    if summary.first_event is not None:
        table.add_row("time span", f"{summary.first_event} .. {summary.last_event}")
    if summary.sparsity is not None:
        table.add_row("sparsity", f"{summary.sparsity:.4%}")
    catalogue = summary.coverage.get("catalogue", 0)
    for modality, count in summary.coverage.items():
        if modality != "catalogue":
            share = count / catalogue if catalogue else 0.0
            table.add_row(f"items with {modality}", f"{count:,} of {catalogue:,} ({share:.0%})")
    if summary.repeat_purchase_rate is not None:
        table.add_row("repeat-purchase rate", f"{summary.repeat_purchase_rate:.1%} of pairs")
    if summary.repeat_customer_rate is not None:
        table.add_row("repeat customers", f"{summary.repeat_customer_rate:.1%} of buyers")
    for step in summary.cleaning:
        table.add_row(f"cleaning {step['name']}", str(step["detail"]))
    console.print(table)


def _counts(summary: StoreSummary) -> str:
    return f"{summary.n_users:,} / {summary.n_items:,} / {summary.n_sessions:,}"


def render_leaderboard(console: Console, board: Leaderboard) -> None:
    """Models best first: each metric with its 95% interval, and a paired test to the leader."""
    title = f"leaderboard: {board.split} split, {board.n_eval_users:,} users, 95% intervals"
    table = Table(title=title, title_justify="left")
    table.add_column("model")
    for spec in board.metrics:
        table.add_column(spec, no_wrap=True)
    table.add_column(f"{board.metrics[0]} - leader", no_wrap=True)
    table.add_column("train s", justify="right")
    for row in board.rows:
        cells = [_with_interval(row.metrics[spec], row.ci95[spec]) for spec in board.metrics]
        versus = row.versus_leader
        gap = "-" if versus is None else f"{-versus.mean_difference:+.3f} p={versus.p_value:.3f}"
        table.add_row(row.model, *cells, gap, f"{row.train_seconds:.1f}")
    console.print(table)


def _with_interval(value: float, interval: tuple[float, float]) -> str:
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"
