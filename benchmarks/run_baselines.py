"""Run every collaborative-filtering baseline on the protocols P1-P4 and keep the results files.

Each run is its own ``mercato benchmark`` process, so train time and peak memory are that run's
alone. Results go to ``benchmarks/results/<protocol>/<model>.json``; ``render_results.py`` turns
them into the tables of ``docs/benchmarks.md``.

Usage::

    .venv/bin/python benchmarks/run_baselines.py                 # everything (about an hour)
    .venv/bin/python benchmarks/run_baselines.py --protocol beauty-loo --model ease
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OUT = HERE / "out"

MODELS = ("pop", "pop-recent", "itemknn", "userknn", "ease", "als", "bpr")

#: Protocols whose baselines are grid-searched on validation; P2 runs each model's defaults
#: (one fit of every model on 186k sessions already takes minutes on two cores).
TUNED = {"beauty-loo", "hm-multimodal", "ml100k-loo"}

#: EASE needs a dense items x items matrix: 43,097 items would need 7.4 GB, so it is not run.
SKIP = {("diginetica-session", "ease")}

PROTOCOLS = ("beauty-loo", "diginetica-session", "hm-multimodal", "ml100k-loo")


def command(protocol: str, model: str) -> list[str]:
    out = RESULTS / protocol / f"{model}.json"
    args = [str(Path(sys.executable).parent / "mercato"), "benchmark", protocol, "--model", model]
    args += ["--out", str(out.relative_to(Path.cwd())), "--quiet"]
    if protocol in TUNED:
        args.append("--tune")
    if protocol == "beauty-loo":
        args += ["--topk", str((OUT / f"{protocol}-{model}-topk.npz").relative_to(Path.cwd()))]
    return args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", action="append", choices=PROTOCOLS)
    parser.add_argument("--model", action="append", choices=MODELS)
    args = parser.parse_args()

    for protocol in args.protocol or PROTOCOLS:
        for model in args.model or MODELS:
            if (protocol, model) in SKIP:
                print(f"skip {model} on {protocol}: see SKIP")
                continue
            run = command(protocol, model)
            print("$", shlex.join(run), flush=True)
            started = time.perf_counter()
            subprocess.run(run, check=True)
            print(f"  done in {time.perf_counter() - started:.0f}s", flush=True)


if __name__ == "__main__":
    main()
