"""Seconds per training epoch of mercato's SASRec beside RecBole's and RecTools' SASRec on P1.

Every contender trains the same network size (embedding 64, window 50, 2 blocks, 1 head, a
feed-forward of width 64 with ReLU, dropout 0.2, learning rate 1e-3, batch 128) on the same
sequences for the same number of passes, in its own process and with the same torch thread
count, so that each process's peak memory is its own. Then each one writes the top 10 unseen
items of every user, and this script scores all lists alike with mercato's metrics under P1
(``beauty-loo``: full ranking, the user's input items excluded).

A whole epoch of RecBole or RecTools on two cores takes many minutes, so by default each pass
stops after ``--max-batches`` batches (in the library's own random batch order) and seconds per
epoch are extrapolated: median pass time / batches timed x batches in a whole epoch. Accuracy
after so few steps says only that the pipeline works; ``--max-batches 0 --epochs 50`` trains
whole epochs for figures worth comparing (hours on two cores).

What each contender trains on: every user's events but the last two (the second-to-last is
P1's validation target), and at test time it reads every event but the last.

- mercato: ``get_model("sasrec")`` fitted on P1's test training set; its own early stopping
  holds out the last training event of each user, which is the same split. ``patience`` is set
  to the number of epochs, so it runs them all, but it still restores the epoch with the best
  validation NDCG@10 (reported as ``restored_epoch``).
- RecBole: ``SASRec`` with the ``LS`` (leave-one-out) split, trained by calling its trainer's
  epoch step directly, so no validation and no checkpoint runs in between. RecBole's own
  full-ranking evaluation does not exclude history items for sequential models, so its top 10
  is taken from ``full_sort_predict`` with the user's history masked here.
- RecTools: ``SASRecModel`` on a ``Dataset`` of the training events; ``recommend`` with
  ``filter_viewed`` over a dataset that also holds the validation event.

A pass's time covers the training steps alone: drawing batches from the library's own
loader or index (and negatives, for the sampled loss), forward, loss, backward and optimiser
step. It leaves out building the training examples, validation and evaluation. Peak RSS is
read when training ends (imports, data and training; not evaluation).

Timings are only as steady as the machine: on two cores shared with other jobs, two torch
threads per process ran up to ten times slower than one (the threads wait on each other), so
compare figures from one run, and prefer ``--threads 1`` on a busy machine.

RecBole 1.2.1 and RecTools 0.19.0 need numpy < 2 and pandas < 3, and RecTools brings
``pm-implicit``, which installs the same ``implicit`` module that mercato depends on: they
cannot share mercato's environment, so they live in their own virtual environment, which
``--setup`` builds with the exact versions this benchmark was run with.

Usage::

    .venv/bin/python benchmarks/peer_speed_benchmark.py --setup   # once: the peers' venv
    nice -n 10 .venv/bin/python benchmarks/peer_speed_benchmark.py --epochs 1 --users 2000
    nice -n 10 .venv/bin/python benchmarks/peer_speed_benchmark.py   # all 22,363 users
    nice -n 10 .venv/bin/python benchmarks/peer_speed_benchmark.py --run rectools:sampled
    .venv/bin/python benchmarks/peer_speed_benchmark.py \\
        --score-curve benchmarks/out/peer-speed/rectools-softmax-curve.json --out CURVE.json

With ``--eval-every N`` a peer's test lists are kept every N epochs in a learning-curve file
beside the run; ``--score-curve`` scores such a file, also one of a run that was stopped early.

The table goes to stdout and every figure to ``benchmarks/out/peer_speed.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SCRATCH = OUT / "peer-speed"
PEER_VENV = OUT / "venv-peers"
DATA_ROOT = Path(os.environ.get("MERCATO_DATA") or HERE.parent.parent / "shared" / "data")

#: Where a run's copy of P1's file lies, inside the scratch folder (mercato reads it there).
SEQUENCE_FILE = Path("data") / "amazon-seq-iclrec" / "Beauty.txt"

#: torch first, from the local CPU wheel (any other version would fetch the CUDA build), then
#: the peers with every pin that makes them import beside each other.
TORCH_PIN = "torch==2.13.0"
PEER_PINS = (
    "recbole==1.2.1",
    "rectools[torch]==0.19.0",
    "numpy==1.26.4",
    "pandas==2.3.3",
    "scipy==1.17.1",
    "pytorch-lightning==2.5.2",
    "torchmetrics==1.9.0",
    "colorlog==4.7.2",
)

#: (library, loss) pairs, in table order; RecBole's SASRec offers no sampled softmax.
RUNS = (
    ("mercato", "softmax"),
    ("mercato", "softmax-bf16"),
    ("recbole", "softmax"),
    ("rectools", "softmax"),
    ("mercato", "sampled"),
    ("mercato", "sampled-per-position"),
    ("rectools", "sampled"),
)

#: What runs without ``--run``: RecTools' sampled softmax draws its negatives per position
#: (``[B, L, K]``), which costs about as much as its full softmax, so it is left to ``--run``.
DEFAULT_RUNS = (RUNS[0], RUNS[2], RUNS[3], RUNS[4])

DEPTH = 10


@dataclass(frozen=True)
class Settings:
    """What every contender is given; the same for all of them.

    ``max_batches`` cuts each timed pass to its first batches (0: whole epochs); seconds per
    epoch are then the pass time per batch times the batches of a whole epoch. ``eval_every``
    (RecBole and RecTools; 0: never) also writes the test lists after every that many epochs,
    so that a long run shows its learning curve, and keeps them if the run is stopped early.
    """

    epochs: int = 2
    max_batches: int = 15
    threads: int = 2
    batch_size: int = 128
    embedding_dim: int = 64
    max_len: int = 50
    n_blocks: int = 2
    n_heads: int = 1
    dropout: float = 0.2
    lr: float = 1e-3
    n_negatives: int = 256
    seed: int = 0
    eval_every: int = 0


# ------------------------------------------------------------------------------------------------
# Data: one canonical file, then each library's format
# ------------------------------------------------------------------------------------------------


def read_sequences(path: Path, n_users: int | None) -> list[tuple[str, list[str]]]:
    """``(user, items oldest first)`` per line of Beauty.txt; the first ``n_users`` if given."""
    sequences = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            user, *items = line.split()
            sequences.append((user, items))
            if n_users is not None and len(sequences) == n_users:
                break
    return sequences


def write_inputs(sequences: list[tuple[str, list[str]]], folder: Path) -> None:
    """P1's file for mercato, RecBole's atomic file, and RecTools' two event tables.

    Beauty.txt has no timestamps; the position in the file stands in for one, so that each
    library sorts events in file order.
    """
    lines = [" ".join([user, *items]) for user, items in sequences]
    mercato_file = folder / SEQUENCE_FILE
    mercato_file.parent.mkdir(parents=True, exist_ok=True)
    mercato_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    rows = []
    clock = 0
    for user, items in sequences:
        for position, item in enumerate(items):
            rows.append((user, item, clock, len(items) - 1 - position))
            clock += 1

    recbole_file = folder / "recbole" / "beauty" / "beauty.inter"
    recbole_file.parent.mkdir(parents=True, exist_ok=True)
    header = "user_id:token\titem_id:token\ttimestamp:float\n"
    body = "".join(f"{user}\t{item}\t{clock}\n" for user, item, clock, _ in rows)
    recbole_file.write_text(header + body, encoding="utf-8")

    # from_end: 0 is the test target, 1 the validation target.
    for name, held in (("train.csv", 1), ("history.csv", 0)):
        kept = "".join(f"{u},{i},{c}\n" for u, i, c, from_end in rows if from_end > held)
        (folder / "rectools").mkdir(parents=True, exist_ok=True)
        (folder / "rectools" / name).write_text("user_id,item_id,clock\n" + kept)


# ------------------------------------------------------------------------------------------------
# Workers: one per library, each run in its own process
# ------------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loss_label(loss: str, settings: Settings, negatives_drawn: str) -> str:
    if loss == "softmax":
        return "full softmax"
    if loss == "softmax-bf16":
        return "full softmax, logits product in bfloat16"
    return f"sampled softmax, {settings.n_negatives} uniform negatives {negatives_drawn}"


def run_mercato(settings: Settings, loss: str, folder: Path) -> dict[str, Any]:
    import torch

    from mercato.evaluate import get_protocol
    from mercato.models import get_model
    from mercato.models.sequence import _loop

    torch.set_num_threads(settings.threads)
    epoch_seconds: list[float] = []
    valid_ndcg: list[float] = []

    # The loop's own epoch report also counts validation; time the training pass alone.
    train_pass, validate, make_batches = _loop._epoch, _loop.validation_ndcg, _loop._batches
    batches_per_epoch: list[int] = []

    def timed_pass(*args: Any, **kwargs: Any) -> float:
        started = time.perf_counter()
        mean_loss = train_pass(*args, **kwargs)
        epoch_seconds.append(time.perf_counter() - started)
        return mean_loss

    def recorded_validation(*args: Any, **kwargs: Any) -> float:
        ndcg = validate(*args, **kwargs)
        valid_ndcg.append(ndcg)
        return ndcg

    def first_batches(*args: Any, **kwargs: Any) -> list[Any]:
        batches: list[Any] = make_batches(*args, **kwargs)
        batches_per_epoch.append(len(batches))
        return batches[: settings.max_batches or None]

    _loop._epoch, _loop.validation_ndcg = timed_pass, recorded_validation
    _loop._batches = first_batches

    _, test = get_protocol("beauty-loo").build(folder / "data")
    model = get_model(
        "sasrec",
        loss="softmax" if loss.startswith("softmax") else "sampled",
        bf16_logits=loss == "softmax-bf16",
        shared_negatives=loss != "sampled-per-position",
        n_negatives=settings.n_negatives,
        embedding_dim=settings.embedding_dim,
        max_len=settings.max_len,
        n_blocks=settings.n_blocks,
        n_heads=settings.n_heads,
        dropout=settings.dropout,
        lr=settings.lr,
        batch_size=settings.batch_size,
        max_epochs=settings.epochs,
        patience=settings.epochs,
        refit=False,  # the passes are timed, not the model: a refit would only add passes
        seed=settings.seed,
    )
    model.fit(test.train)
    rss = peak_rss_mb()

    assert test.users is not None  # P1 asks users, not histories
    top = model.recommend(test.users, k=DEPTH).items
    item_ids = test.train.item_ids.astype(str)
    lists = [[item_ids[i] for i in row if i >= 0] for row in top]
    return {
        "version": version("mercato"),
        "loss_detail": loss_label(
            loss, settings, "per position" if loss == "sampled-per-position" else "per batch"
        ),
        "pass_seconds": epoch_seconds,
        "batches_per_epoch": batches_per_epoch[0],
        "peak_rss_mb": rss,
        "users": test.train.user_ids[test.users].astype(str).tolist(),
        "lists": lists,
        "valid_ndcg": valid_ndcg,
        "restored_epoch": 1 + max(range(len(valid_ndcg)), key=valid_ndcg.__getitem__),
        "threads": torch.get_num_threads(),
    }


def run_recbole(settings: Settings, loss: str, folder: Path) -> dict[str, Any]:
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import SASRec
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    if loss != "softmax":
        raise ValueError(f"RecBole's SASRec has no sampled softmax; got loss={loss!r}")
    config = Config(
        model="SASRec",
        dataset="beauty",
        config_dict={
            "data_path": str(folder / "recbole"),
            "checkpoint_dir": str(folder / "recbole" / "saved"),
            "USER_ID_FIELD": "user_id",
            "ITEM_ID_FIELD": "item_id",
            "TIME_FIELD": "timestamp",
            "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
            "user_inter_num_interval": "[0,inf)",
            "item_inter_num_interval": "[0,inf)",
            "MAX_ITEM_LIST_LENGTH": settings.max_len,
            "n_layers": settings.n_blocks,
            "n_heads": settings.n_heads,
            "hidden_size": settings.embedding_dim,
            "inner_size": settings.embedding_dim,
            "hidden_act": "relu",
            "hidden_dropout_prob": settings.dropout,
            "attn_dropout_prob": settings.dropout,
            "loss_type": "CE",
            "train_neg_sample_args": None,
            "epochs": settings.epochs,
            "train_batch_size": settings.batch_size,
            "eval_batch_size": 1024,
            "learning_rate": settings.lr,
            "eval_args": {
                "split": {"LS": "valid_and_test"},
                "order": "TO",
                "mode": "full",
                "group_by": "user",
            },
            "metrics": ["Hit", "NDCG"],
            "topk": [DEPTH],
            "valid_metric": "NDCG@10",
            "use_gpu": False,
            "seed": settings.seed,
            "reproducibility": True,
            "show_progress": False,
            "save_dataset": False,
            "save_dataloaders": False,
            "worker": 0,
        },
    )
    init_seed(config["seed"], config["reproducibility"])
    torch.set_num_threads(settings.threads)
    dataset = create_dataset(config)
    train_data, _, test_data = data_preparation(config, dataset)
    model = SASRec(config, train_data.dataset).to(config["device"])
    trainer = Trainer(config, model)

    epoch_seconds = []
    lists_by_epoch: dict[str, list[list[str]]] = {}
    for epoch in range(settings.epochs):
        started = time.perf_counter()
        batches = itertools.islice(train_data, settings.max_batches or None)
        trainer._train_epoch(batches, epoch, show_progress=False)
        epoch_seconds.append(time.perf_counter() - started)
        if settings.eval_every and (epoch + 1) % settings.eval_every == 0:
            users, lists_by_epoch[str(epoch + 1)] = _recbole_top(model, dataset, test_data, folder)
            model.train()
            write_curve(folder / f"recbole-{loss}-curve.json", epoch_seconds, users, lists_by_epoch)
    rss = peak_rss_mb()

    users, lists = _recbole_top(model, dataset, test_data, folder)
    return {
        "version": version("recbole"),
        "loss_detail": "full softmax (CE), last position of every prefix",
        "pass_seconds": epoch_seconds,
        "batches_per_epoch": len(train_data),
        "peak_rss_mb": rss,
        "users": users,
        "lists": lists,
        "lists_by_epoch": lists_by_epoch,
        "threads": torch.get_num_threads(),
    }


def write_curve(
    path: Path,
    pass_seconds: list[float],
    users: list[str],
    lists_by_epoch: dict[str, list[list[str]]],
) -> None:
    """Keeps a peer's learning curve beside its run as it grows: a run of many hours may be
    cut short, and its lists can still be scored."""
    curve = {"pass_seconds": pass_seconds, "users": users, "lists_by_epoch": lists_by_epoch}
    path.write_text(json.dumps(curve))


def _recbole_top(
    model: Any, dataset: Any, test_data: Any, folder: Path
) -> tuple[list[str], list[list[str]]]:
    """Top 10 per test user with every item of the input history masked, as P1 asks."""
    import torch

    history = {user: items[:-1] for user, items in read_sequences(folder / SEQUENCE_FILE, None)}
    users: list[str] = []
    lists: list[list[str]] = []
    model.eval()
    with torch.no_grad():
        for interaction, *_ in test_data:
            scores = model.full_sort_predict(interaction).view(len(interaction), -1)  # [B, 1 + I]
            scores[:, 0] = -torch.inf  # the padding item
            tokens = dataset.id2token("user_id", interaction["user_id"].numpy())
            for row, user in enumerate(tokens):
                seen = dataset.token2id("item_id", history[user])
                scores[row, torch.as_tensor(seen)] = -torch.inf
            top = scores.topk(DEPTH, dim=1).indices.numpy()  # [B, 10]
            users.extend(str(user) for user in tokens)
            lists.extend(dataset.id2token("item_id", row).tolist() for row in top)
    return users, lists


def run_rectools(settings: Settings, loss: str, folder: Path) -> dict[str, Any]:
    import pandas as pd
    import pytorch_lightning
    import torch
    from rectools.dataset import Dataset
    from rectools.models import SASRecModel
    from rectools.models.nn.item_net import IdEmbeddingsItemNet

    torch.set_num_threads(settings.threads)
    pytorch_lightning.seed_everything(settings.seed, verbose=False)

    class EpochTimer(pytorch_lightning.Callback):
        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.started = 0.0

        def on_train_epoch_start(self, *_: Any) -> None:
            self.started = time.perf_counter()

        def on_train_epoch_end(self, *_: Any) -> None:
            self.seconds.append(time.perf_counter() - self.started)

    def dataset_of(name: str) -> Any:
        frame = pd.read_csv(folder / "rectools" / name, dtype={"user_id": str, "item_id": str})
        frame["datetime"] = pd.to_datetime(frame.pop("clock"), unit="s")
        frame["weight"] = 1.0
        return Dataset.construct(frame)

    train = dataset_of("train.csv")
    history = dataset_of("history.csv")

    def top_lists() -> tuple[list[str], list[list[str]]]:
        reco = model.recommend(
            users=history.user_id_map.external_ids, dataset=history, k=DEPTH, filter_viewed=True
        )
        lists = reco.sort_values(["user_id", "rank"]).groupby("user_id", sort=False)["item_id"]
        by_user = lists.agg(list)
        return [str(user) for user in by_user.index], [[str(i) for i in row] for row in by_user]

    class Curve(pytorch_lightning.Callback):
        """Test lists every ``eval_every`` epochs, kept in a file beside the run as it grows."""

        def __init__(self) -> None:
            self.lists_by_epoch: dict[str, list[list[str]]] = {}
            self.users: list[str] = []

        def on_train_epoch_end(self, trainer: Any, module: Any) -> None:
            epoch = trainer.current_epoch + 1
            if not settings.eval_every or epoch % settings.eval_every:
                return
            # recommend() refuses an unfitted model; mid-fit, the weights are the current ones.
            fitted, model.is_fitted = model.is_fitted, True
            self.users, self.lists_by_epoch[str(epoch)] = top_lists()
            model.is_fitted = fitted
            module.train()
            timer = next(c for c in trainer.callbacks if isinstance(c, EpochTimer))
            curve_file = folder / f"rectools-{loss}-curve.json"
            write_curve(curve_file, timer.seconds, self.users, self.lists_by_epoch)

    curve = Curve()
    model = SASRecModel(
        n_blocks=settings.n_blocks,
        n_heads=settings.n_heads,
        n_factors=settings.embedding_dim,
        dropout_rate=settings.dropout,
        session_max_len=settings.max_len,
        loss="softmax" if loss == "softmax" else "sampled_softmax",
        n_negatives=settings.n_negatives,
        lr=settings.lr,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        item_net_block_types=(IdEmbeddingsItemNet,),
        recommend_torch_device="cpu",
    )
    # The default trainer, plus the timer; fit trains a deep copy of it.
    model._trainer = pytorch_lightning.Trainer(
        max_epochs=settings.epochs,
        min_epochs=settings.epochs,
        limit_train_batches=settings.max_batches or 1.0,
        accelerator="cpu",
        devices=1,
        callbacks=[EpochTimer(), curve],
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        enable_checkpointing=False,
    )
    model.fit(train)
    rss = peak_rss_mb()
    timer = next(c for c in model.fit_trainer.callbacks if isinstance(c, EpochTimer))
    fitted_curve = next(c for c in model.fit_trainer.callbacks if isinstance(c, Curve))

    users, lists = top_lists()
    return {
        "version": version("rectools"),
        "loss_detail": loss_label(loss, settings, "per position"),
        "pass_seconds": timer.seconds,
        "batches_per_epoch": len(model.data_preparator.get_dataloader_train()),
        "peak_rss_mb": rss,
        "users": users,
        "lists": lists,
        "lists_by_epoch": fitted_curve.lists_by_epoch,
        "threads": torch.get_num_threads(),
    }


WORKERS: dict[str, Callable[[Settings, str, Path], dict[str, Any]]] = {
    "mercato": run_mercato,
    "recbole": run_recbole,
    "rectools": run_rectools,
}


def worker_main(name: str, loss: str, settings: Settings, folder: Path, out: Path) -> None:
    started = time.perf_counter()
    result = WORKERS[name](settings, loss, folder)
    import numpy
    import torch

    result["process_seconds"] = time.perf_counter() - started
    result["versions"] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }
    out.write_text(json.dumps(result))


# ------------------------------------------------------------------------------------------------
# Parent: run each contender, score every list alike, report
# ------------------------------------------------------------------------------------------------


def launch(
    name: str, loss: str, settings: Settings, folder: Path, python: Path
) -> dict[str, Any] | None:
    """Runs one worker process; its result, or None (with the log's tail) when it failed."""
    out = folder / f"{name}-{loss}.json"
    log = folder / f"{name}-{loss}.log"
    out.unlink(missing_ok=True)
    args = [str(python), str(Path(__file__).resolve()), "--worker", name, "--loss", loss]
    args += ["--scratch", str(folder), "--worker-out", str(out)]
    for field, value in asdict(settings).items():
        args += [f"--{field.replace('_', '-')}", str(value)]
    threads = str(settings.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    print(f"running {name} ({loss}) ...", flush=True)
    with log.open("w") as handle:
        done = subprocess.run(args, cwd=folder, env=env, stdout=handle, stderr=subprocess.STDOUT)
    if done.returncode != 0 or not out.exists():
        tail = log.read_text().splitlines()[-15:]
        print(f"{name} ({loss}) failed with exit code {done.returncode}; see {log}:")
        print("\n".join(tail))
        return None
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def score(result: dict[str, Any], sequences: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """HR@10 / NDCG@10 under P1 with mercato's metrics; users without a list count as misses."""
    import numpy as np
    import scipy.sparse as sp

    from mercato.evaluate import evaluate_topk

    items = sorted({item for _, seq in sequences for item in seq})
    index = {item: number for number, item in enumerate(items)}
    lists = dict(zip(result["users"], result["lists"], strict=True))

    topk = np.full((len(sequences), DEPTH), -1, dtype=np.int64)
    seen_in_lists = 0
    for row, (user, seq) in enumerate(sequences):
        ranked = lists.get(user, [])[:DEPTH]
        seen_in_lists += len(set(ranked) & set(seq[:-1]))
        topk[row, : len(ranked)] = [index[item] for item in ranked]
    targets = sp.csr_matrix(
        (
            np.ones(len(sequences), dtype=np.float32),
            ([*range(len(sequences))], [index[seq[-1]] for _, seq in sequences]),
        ),
        shape=(len(sequences), len(items)),
    )
    per_user = evaluate_topk(topk, targets, ["HR@10", "NDCG@10"])
    return {
        "HR@10": float(per_user["HR@10"].mean()),
        "NDCG@10": float(per_user["NDCG@10"].mean()),
        "n_eval_users": len(sequences),
        "users_without_list": len(sequences) - len(set(lists) & {u for u, _ in sequences}),
        "seen_items_in_lists": seen_in_lists,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| library | version | loss | batches timed / epoch | s/epoch (median) | peak RSS MB "
        "| HR@10 | NDCG@10 |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['library']} | {row['version']} | {row['loss_detail']} | "
            f"{row['batches_timed_per_pass']} of {row['batches_per_epoch']} | "
            f"{row['seconds_per_epoch']:.2f} | {row['peak_rss_mb']:.0f} | "
            f"{row['HR@10']:.4f} | {row['NDCG@10']:.4f} |"
        )
    return "\n".join(lines)


def score_epochs(
    users: list[str],
    lists_by_epoch: dict[str, list[list[str]]],
    sequences: list[tuple[str, list[str]]],
) -> dict[str, dict[str, Any]]:
    """:func:`score`'s figures for the lists kept after each epoch, in epoch order."""
    by_epoch = sorted(lists_by_epoch.items(), key=lambda pair: int(pair[0]))
    return {epoch: score({"users": users, "lists": lists}, sequences) for epoch, lists in by_epoch}


def score_curve(path: Path, data_root: Path, n_users: int | None, out: Path) -> None:
    """Scores every epoch's lists in a peer's learning-curve file, so that a run stopped before
    its last epoch still gives its accuracy so far, and writes them to ``out``."""
    curve = json.loads(path.read_text())
    sequences = read_sequences(data_root / "amazon-seq-iclrec" / "Beauty.txt", n_users)
    seconds = curve["pass_seconds"]
    rows = []
    for epoch, figures in score_epochs(curve["users"], curve["lists_by_epoch"], sequences).items():
        rows.append({"epoch": int(epoch), "train_seconds": sum(seconds[: int(epoch)]), **figures})
        print(f"epoch {epoch}: HR@10 {figures['HR@10']:.4f}, NDCG@10 {figures['NDCG@10']:.4f}")

    report = {
        "protocol": "beauty-loo",
        "curve_file": str(path),
        "pass_seconds": seconds,
        "accuracy_by_epoch": rows,
        "command": " ".join(sys.argv),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


def setup_peers(venv: Path) -> None:
    """Builds the peers' virtual environment with the pinned versions."""
    subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, TORCH_PIN], check=True)
    subprocess.run([*pip, *PEER_PINS], check=True)
    print(f"peer environment ready: {venv}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Settings()
    parser.add_argument("--setup", action="store_true", help="build the peers' venv and stop")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV)
    parser.add_argument("--data-root", type=Path, default=DATA_ROOT, help="the datasets folder")
    parser.add_argument("--users", type=int, default=None, help="the first N users only")
    parser.add_argument("--run", action="append", choices=[f"{n}:{loss}" for n, loss in RUNS])
    parser.add_argument("--out", type=Path, default=OUT / "peer_speed.json")
    parser.add_argument(
        "--score-curve",
        type=Path,
        help="score the learning-curve file of a peer run (finished or stopped early) and stop",
    )
    for field, value in asdict(defaults).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=value)
    # Used by the parent to start one contender in its own process.
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--loss", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, default=SCRATCH, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    settings = Settings(**{field: getattr(args, field) for field in asdict(Settings())})
    if args.worker:
        worker_main(args.worker, args.loss, settings, args.scratch, args.worker_out)
        return
    if args.setup:
        setup_peers(args.peer_venv)
        return
    if args.score_curve:
        score_curve(args.score_curve, args.data_root, args.users, args.out)
        return

    peer_python = args.peer_venv / "bin" / "python"
    if not peer_python.exists():
        sys.exit(f"no peer environment at {args.peer_venv}; build it with --setup first")
    args.scratch.mkdir(parents=True, exist_ok=True)
    sequences = read_sequences(args.data_root / "amazon-seq-iclrec" / "Beauty.txt", args.users)
    write_inputs(sequences, args.scratch)

    chosen = [tuple(run.split(":")) for run in args.run] if args.run else list(DEFAULT_RUNS)
    rows = []
    for name, loss in chosen:
        python = Path(sys.executable) if name == "mercato" else peer_python
        result = launch(name, loss, settings, args.scratch, python)
        if result is None:
            continue
        figures = score(result, sequences)
        by_epoch = score_epochs(result["users"], result.pop("lists_by_epoch", {}), sequences)
        curve = {
            epoch: {key: figures[key] for key in ("HR@10", "NDCG@10")}
            for epoch, figures in by_epoch.items()
        }
        if curve:
            figures["accuracy_by_epoch"] = curve
        timed = min(
            settings.max_batches or result["batches_per_epoch"], result["batches_per_epoch"]
        )
        per_batch = statistics.median(result["pass_seconds"]) / timed
        row = {
            "library": name,
            "loss": loss,
            "seconds_per_epoch": per_batch * result["batches_per_epoch"],
            "batches_timed_per_pass": timed,
            **{key: value for key, value in result.items() if key not in {"users", "lists"}},
            **figures,
        }
        print(f"  {row['seconds_per_epoch']:.2f} s/epoch, NDCG@10 {row['NDCG@10']:.4f}")
        rows.append(row)

    print(table(rows))
    report = {
        "protocol": "beauty-loo",
        "settings": asdict(settings),
        "n_users": len(sequences),
        "runs": rows,
        "command": " ".join(sys.argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
