"""Items per second of each feature encoder on real shop data (H&M product texts and photos).

Texts are the ``detail_desc`` of ``articles_train_sample.csv``, pictures the matching
``thumbs/<article_id>.jpg`` (at most 160x240 JPEG). Each encoder is loaded and warmed up on one
batch first; the timed pass then encodes ``--items`` inputs in batches of ``--batch-size``.
Image rates include reading and decoding the JPEG, as in ``build_item_features``.

Prints a markdown table and writes ``benchmarks/out/encoders.json``. Wall-clock rates depend on
what else the machine runs, so the load average before and after is recorded, and items per
CPU-second (all threads of this process) are given beside items per second.

Usage::

    .venv/bin/python benchmarks/encoder_benchmark.py                  # every encoder, 500 items
    .venv/bin/python benchmarks/encoder_benchmark.py --encoder e5 --items 200
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/encoder_benchmark.py  # shared machine
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import ConfigError
from mercato.features import (
    E5Encoder,
    TextEncoder,
    TfidfEncoder,
    decode_image,
    efficientnet_lite0_encoder,
    minilm_encoder,
)

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("MERCATO_DATA", HERE.parents[1] / "shared" / "data"))
OUT = HERE / "out" / "encoders.json"
ENCODERS = ("minilm", "e5", "tfidf", "efficientnet-lite0")


#: Loads an encoder; returns its width and a batch encode function.
Loader = Callable[[], tuple[int, Callable[[Sequence[object]], np.ndarray]]]


@dataclass(frozen=True)
class Result:
    encoder: str
    modality: str
    dim: int
    items: int
    load_s: float
    encode_s: float
    items_per_s: float
    items_per_cpu_s: float


def hm_sample(folder: Path, n_items: int) -> tuple[list[str], list[Path]]:
    """The first ``n_items`` articles with a description and a thumbnail."""
    articles = pd.read_csv(folder / "articles_train_sample.csv", dtype={"article_id": str})
    articles = articles[articles["detail_desc"].fillna("").str.strip().str.len() > 0]
    thumbs = [folder / "thumbs" / f"{article}.jpg" for article in articles["article_id"]]
    present = [path.is_file() for path in thumbs]
    texts = articles["detail_desc"][present].head(n_items).tolist()
    pictures = [path for path, ok in zip(thumbs, present, strict=True) if ok][:n_items]
    return texts, pictures


def timed(
    name: str,
    modality: str,
    load: Loader,
    inputs: Sequence[object],
    batch_size: int,
) -> Result:
    """Load (and warm up on one batch), then time encoding every input in batches."""
    started = time.perf_counter()
    dim, encode = load()
    encode(inputs[:batch_size])
    load_s = time.perf_counter() - started

    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(inputs), batch_size):
        encode(inputs[start : start + batch_size])
    encode_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    n = len(inputs)
    return Result(name, modality, dim, n, load_s, encode_s, n / encode_s, n / cpu_s)


def text_loader(build: Callable[[], TextEncoder], corpus: Sequence[str]) -> Loader:
    def load() -> tuple[int, Callable[[Sequence[object]], np.ndarray]]:
        encoder = build()
        if isinstance(encoder, TfidfEncoder):
            encoder.fit(corpus)  # the fit counts as loading: it happens once per catalogue
        return encoder.dim, lambda batch: encoder.encode([str(text) for text in batch])

    return load


def image_loader() -> tuple[int, Callable[[Sequence[object]], np.ndarray]]:
    encoder = efficientnet_lite0_encoder()

    def encode(paths: Sequence[object]) -> np.ndarray:
        return encoder.encode([decode_image(Path(str(path)).read_bytes()) for path in paths])

    return encoder.dim, encode


def markdown(results: Sequence[Result]) -> str:
    lines = [
        "| encoder | modality | dim | items | load + warm-up (s) | encode (s) | items/s "
        "| items per CPU-s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.encoder} | {result.modality} | {result.dim} | {result.items} | "
            f"{result.load_s:.1f} | {result.encode_s:.1f} | {result.items_per_s:.1f} | "
            f"{result.items_per_cpu_s:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--encoder", action="append", choices=ENCODERS)
    parser.add_argument("--data", type=Path, default=DATA / "hm-fashion-sample")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    texts, pictures = hm_sample(args.data, args.items)
    print(f"H&M sample: {len(texts)} texts, {len(pictures)} pictures from {args.data}")
    plans: dict[str, tuple[str, Loader, Sequence[object]]] = {
        "minilm": ("text", text_loader(minilm_encoder, texts), texts),
        "e5": ("text", text_loader(E5Encoder, texts), texts),
        "tfidf": ("text", text_loader(TfidfEncoder, texts), texts),
        "efficientnet-lite0": ("image", image_loader, pictures),
    }
    load_before = os.getloadavg()[0]
    results = []
    for name in args.encoder or ENCODERS:
        modality, load, inputs = plans[name]
        try:
            results.append(timed(name, modality, load, inputs, args.batch_size))
        except ConfigError as error:
            print(f"skip {name}: {error}")
            continue
        print(f"{name}: {results[-1].items_per_s:.1f} items/s")

    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": machine,
        "batch_size": args.batch_size,
        "results": [asdict(r) for r in results],
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(markdown(results))
    print(f"\nmachine: {machine}; written to {args.out}")


if __name__ == "__main__":
    main()
