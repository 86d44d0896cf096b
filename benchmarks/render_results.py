"""Render ``benchmarks/results/**.json`` as the protocol tables of ``docs/benchmarks.md``.

The tables are written between the markers ``<!-- results:begin -->`` and
``<!-- results:end -->``; the rest of the page is left as it is.

Usage::

    .venv/bin/python benchmarks/render_results.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

#: Published figures on the same files, full ranking, as listed in the protocol sheet.
PUBLISHED = {
    "beauty-loo": [
        ("SASRec (as commonly reported)", {"HR@10": 0.0605, "NDCG@10": 0.0318}),
        ("SASRec, sampled softmax", {"HR@10": 0.0921, "NDCG@10": 0.0531}),
        ("eSASRec", {"HR@10": 0.0928, "NDCG@10": 0.0523}),
        ("DuoRec", {"HR@10": 0.0845, "NDCG@10": 0.0443}),
        ("LSAN", {"HR@10": 0.0785, "NDCG@10": 0.0410}),
    ],
    "diginetica-session": [
        ("SR-GNN", {"P@20": 0.5073, "MRR@20": 0.1759}),
        ("GRU4Rec (recalled, not re-checked)", {"P@20": 0.2945, "MRR@20": 0.0833}),
        ("NARM (recalled, not re-checked)", {"P@20": 0.4970, "MRR@20": 0.1617}),
        ("GCE-GNN (recalled, not re-checked)", {"P@20": 0.5422, "MRR@20": 0.1904}),
    ],
}

ORDER = ("beauty-loo", "diginetica-session", "hm-multimodal", "ml100k-loo")


def table(protocol: str, runs: list[dict]) -> list[str]:
    metrics = list(runs[0]["metrics"])
    lines = [
        f"### {protocol}",
        "",
        f"Evaluated users/queries: {runs[0]['n_eval_users']:,}. Intervals: bootstrap 95% over "
        "users. Command per row: `.venv/bin/mercato benchmark "
        f"{protocol} --model MODEL{' --tune' if runs[0].get('tuning') else ''}`.",
        "",
        "| model | " + " | ".join(metrics) + " | train s | eval s | peak MB | config |",
        "|---|" + "---|" * (len(metrics) + 4),
    ]
    for run in sorted(runs, key=lambda r: -r["metrics"][metrics[1]]):
        cells = [
            f"{run['metrics'][m]:.4f} [{run['ci95'][m][0]:.4f}, {run['ci95'][m][1]:.4f}]"
            for m in metrics
        ]
        config = {k: v for k, v in run["config"].items() if k not in ("seed", "event_weights")}
        lines.append(
            f"| {run['model']} | "
            + " | ".join(cells)
            + f" | {run['train_seconds']:.1f} | {run.get('eval_seconds', 0):.1f}"
            f" | {run['peak_rss_mb']:.0f} | `{json.dumps(config)}` |"
        )
    for name, figures in PUBLISHED.get(protocol, []):
        cells = [f"{figures[m]:.4f}" if m in figures else "" for m in metrics]
        lines.append(f"| *published: {name}* | " + " | ".join(cells) + " | | | | |")
    lines += ["", *beyond(runs), *tuning(runs), ""]
    return lines


def beyond(runs: list[dict]) -> list[str]:
    """Coverage, novelty, popularity bias, diversity and the metric for new vs regular users."""
    names = list(runs[0].get("beyond_accuracy", {}))
    segments = runs[0].get("segments", {})
    by_length = next((key for key in segments if key.endswith("by history length")), None)
    # Bucket order as the runner lists them (shortest history first), not alphabetical.
    counts = segments.get("users by history length", {})
    buckets = [b for b in counts if b in segments.get(by_length, {})] if by_length else []
    if not names:
        return []
    header = names + [f"{by_length.split(' by ')[0]} (history {b})" for b in buckets]
    lines = [
        "Beyond accuracy on the same test lists, and the selection metric by length of the "
        "training history (new users versus regular ones):",
        "",
        "| model | " + " | ".join(header) + " |",
        "|---|" + "---|" * len(header),
    ]
    for run in runs:
        cells = [f"{run['beyond_accuracy'][name]:.4f}" for name in names]
        cells += [f"{run['segments'][by_length].get(b, float('nan')):.4f}" for b in buckets]
        lines.append(f"| {run['model']} | " + " | ".join(cells) + " |")
    if counts:
        lines += [
            "",
            "Users per history bucket: "
            + ", ".join(f"{b}: {int(n):,}" for b, n in counts.items())
            + ".",
        ]
    return [*lines, ""]


def tuning(runs: list[dict]) -> list[str]:
    tuned = [run for run in runs if run.get("tuning")]
    if not tuned:
        return []
    lines = ["Validation grid (selection metric on the validation targets only):", ""]
    for run in tuned:
        points = ", ".join(
            f"{json.dumps(point['config'])} → {point['valid']:.4f}" for point in run["tuning"]
        )
        lines.append(f"- {run['model']} ({run['tuning'][0]['metric']}): {points}")
    return lines


def main() -> None:
    lines = []
    for protocol in ORDER:
        files = sorted((HERE / "results" / protocol).glob("*.json"))
        if files:
            lines += table(protocol, [json.loads(file.read_text()) for file in files])
    page = PAGE.read_text(encoding="utf-8")
    head, rest = page.split(BEGIN)
    _, tail = rest.split(END)
    PAGE.write_text(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
