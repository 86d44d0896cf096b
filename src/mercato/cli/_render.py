"""How the CLI shows reports: rich tables, never logs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from mercato.data import IngestReport, StoreSummary

__all__ = ["render_ingest", "render_summary"]


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
