"""The one training loop of every sequence encoder: AdamW, softmax losses, early stopping.

Shape letters: ``B`` batch rows, ``L`` window length, ``D`` embedding width, ``I`` items,
``N`` training positions in a batch, ``K`` sampled negatives.

Each epoch shuffles the training windows, takes AdamW steps on mini-batches, then ranks every
item for each validation window (NDCG@10, full ranking). The best epoch's weights are kept in
memory and restored at the end; training stops after ``patience`` epochs without a better
validation score.

Encoders that read who the user is (``SequenceEncoder.reads_users``) get the user of each window
alongside it (``-1`` for an anonymous session), in training, validation and scoring alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor
from torch.nn import functional

from mercato.models.sequence._checkpoint import checkpoint_key, load_checkpoint, save_checkpoint
from mercato.models.sequence._config import SequenceConfig
from mercato.models.sequence._data import Windows
from mercato.models.sequence._modules import ScoredItems, SequenceEncoder

__all__ = [
    "EpochReport",
    "best_epoch",
    "encode_items",
    "encode_scores",
    "encode_states",
    "seeded",
    "train",
    "validation_ndcg",
]

logger = logging.getLogger(__name__)

#: Rows encoded and scored at once outside training: peak memory ~ ``rows * I * 4`` bytes.
SCORING_ROWS = 1024

#: Validation metric cut-off.
NDCG_DEPTH = 10

#: Batches whose rows are sorted by length together; see ``_batches``.
BUCKET_BATCHES = 64

Loss = Callable[[Tensor, Tensor, ScoredItems], Tensor]


@dataclass(frozen=True)
class EpochReport:
    """One epoch of training: mean loss, validation NDCG@10 (NaN without validation), time."""

    epoch: int
    loss: float
    valid_ndcg: float
    seconds: float


def best_epoch(reports: list[EpochReport]) -> int:
    """The epoch :func:`train` restores: the best validation NDCG@10, the first of ties."""
    return max(reports, key=lambda report: (report.valid_ndcg, -report.epoch)).epoch


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seeds torch for the block and gives the caller's random state back afterwards.

    Inside, torch's global generator (weight initialisation, dropout, negatives) starts from
    ``seed``, so the same seed and data give the same weights. Every kernel these encoders run
    on a CPU is deterministic; ``torch.use_deterministic_algorithms`` is not switched on,
    because it guards GPU kernels only and its first call imports torch's compiler stack
    (seconds).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def train(
    encoder: SequenceEncoder,
    examples: Windows,
    valid: Windows | None,
    config: SequenceConfig,
    *,
    name: str,
    example_users: NDArray[np.int64] | None = None,
    valid_users: NDArray[np.int64] | None = None,
    checkpoint: Path | None = None,
) -> list[EpochReport]:
    """Trains ``encoder`` in place on ``examples`` and leaves it at its best validation epoch.

    Without validation windows every epoch counts as the best, so the last one is kept. Call
    inside :func:`seeded`. ``example_users [N]`` and ``valid_users [V]`` name the user of each
    window, for encoders that read users. With ``checkpoint`` (a file path) the run is saved
    after every epoch and, when that file holds this same run, resumed from it (see
    :mod:`mercato.models.sequence._checkpoint`). Returns one report per epoch run.
    """
    targets = _target_counts(examples, encoder.tower.n_items)
    loss_of = _loss(config, targets)
    optimiser = torch.optim.AdamW(
        encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    order_rng = np.random.default_rng(config.seed)
    tensors = _as_tensors(examples, example_users)

    key = ""
    if checkpoint is not None:
        key = _run_key(encoder, config, examples, valid, example_users, valid_users)
    progress = _Progress([], -math.inf, 0, _snapshot(encoder))
    if checkpoint is not None:
        saved = load_checkpoint(
            checkpoint, key, network=encoder, optimiser=optimiser, order_rng=order_rng
        )
        if saved is not None:
            progress = _Progress.from_saved(saved)
            logger.info("%s: resuming from %s after epoch %d", name, checkpoint, progress.epochs)

    for epoch in range(progress.epochs + 1, config.max_epochs + 1):
        if progress.stopped:
            break
        started = time.perf_counter()
        loss = _epoch(encoder, tensors, order_rng, optimiser, loss_of, config.batch_size)
        ndcg = validation_ndcg(encoder, valid, valid_users) if valid is not None else math.nan
        report = EpochReport(epoch, loss, ndcg, time.perf_counter() - started)
        improved = progress.record(report, encoder, counts_as_better=valid is None)
        _log_epoch(name, config.max_epochs, report, improved)
        if epoch - progress.best_epoch >= config.patience:
            logger.info(
                "%s: no better validation NDCG@10 for %d epochs; stopping",
                name,
                epoch - progress.best_epoch,
            )
            progress.stopped = True
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                key,
                network=encoder,
                optimiser=optimiser,
                order_rng=order_rng,
                progress=progress.to_saved(),
            )

    encoder.load_state_dict(progress.best_state)
    encoder.eval()
    if valid is not None:
        logger.info(
            "%s: restored epoch %d (valid NDCG@10 %.4f)",
            name,
            progress.best_epoch,
            progress.best_ndcg,
        )
    return progress.reports


@dataclass
class _Progress:
    """Where a training run stands: its epoch reports and its best epoch so far."""

    reports: list[EpochReport]
    best_ndcg: float
    best_epoch: int
    best_state: dict[str, Tensor]
    stopped: bool = False

    @property
    def epochs(self) -> int:
        return len(self.reports)

    def record(
        self, report: EpochReport, encoder: SequenceEncoder, *, counts_as_better: bool
    ) -> bool:
        """Adds ``report``; keeps the encoder's weights when it is the best so far."""
        self.reports.append(report)
        improved = counts_as_better or report.valid_ndcg > self.best_ndcg
        if improved:
            self.best_ndcg, self.best_epoch = report.valid_ndcg, report.epoch
            self.best_state = _snapshot(encoder)
        return improved

    def to_saved(self) -> dict[str, Any]:
        return {
            "reports": [dataclasses.astuple(report) for report in self.reports],
            "best_ndcg": self.best_ndcg,
            "best_epoch": self.best_epoch,
            "best_state": self.best_state,
            "stopped": self.stopped,
        }

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> _Progress:
        return cls(
            [EpochReport(*row) for row in saved["reports"]],
            float(saved["best_ndcg"]),
            int(saved["best_epoch"]),
            saved["best_state"],
            bool(saved["stopped"]),
        )


def _run_key(
    encoder: SequenceEncoder,
    config: SequenceConfig,
    examples: Windows,
    valid: Windows | None,
    example_users: NDArray[np.int64] | None,
    valid_users: NDArray[np.int64] | None,
) -> str:
    """What identifies a training run: its settings and every array it reads, the encoder's
    buffers included (a content model's item and user features live there)."""
    windows = [examples, *([valid] if valid is not None else [])]
    arrays = [
        array
        for window in windows
        for array in (window.items, window.types, window.gaps, window.targets)
    ]
    buffers = [
        buffer.detach().reshape(-1).contiguous().view(torch.uint8).numpy()
        for _, buffer in sorted(encoder.named_buffers())
    ]
    return checkpoint_key(config, [*arrays, example_users, valid_users, *buffers])


def validation_ndcg(
    encoder: SequenceEncoder, valid: Windows, users: NDArray[np.int64] | None = None
) -> float:
    """Mean NDCG@10 of the validation targets ``[V]`` over a full ranking of every item.

    Items in a window's own inputs are left out of its ranking (as ``recommend`` leaves out
    seen items), so a target that repeats one of them counts as a miss. ``users [V]``: the
    user of each window, for encoders that read users.
    """
    assert valid.targets is not None  # validation windows always carry their targets
    encoder.eval()
    gains = []
    with torch.inference_mode():
        # A zero row in front stands for padding: the shifted input ids then index the scores
        # directly, and seen items are masked with one scatter.
        vectors = encoder.item_vectors()  # [I, D]
        padded = torch.cat([torch.zeros_like(vectors[:1]), vectors])  # [1 + I, D]
        for rows in _scoring_chunks(encoder, valid):
            row_users = _users_of(users, rows)
            gains.append(_ndcg_of_rows(encoder, padded, valid.rows(rows), row_users))
    return float(torch.cat(gains).mean()) if gains else math.nan


def encode_scores(
    encoder: SequenceEncoder,
    windows: Windows,
    items: NDArray[np.float32],
    users: NDArray[np.int64] | None = None,
) -> NDArray[np.float32]:
    """float32 ``[N, I]`` scores of every item after each window, in batches, no gradients.

    ``items [I, D]``: the item vectors from :func:`encode_items`, made once by the caller:
    making them can cost more than a request (content fusion, normalising).
    ``users [N]``: the user of each window (-1: anonymous), for encoders that read users.
    """
    encoder.eval()
    scores = np.empty((len(windows), encoder.tower.n_items), dtype=np.float32)
    with torch.inference_mode():
        for rows in _scoring_chunks(encoder, windows):
            states = _last_states(encoder, windows.rows(rows), _users_of(users, rows))  # [B, D]
            # numpy's product, not torch's: for one shopper's row against a large catalogue
            # it is about twice as fast on one core.
            scores[rows] = states.numpy() @ items.T  # [B, I]
    return scores


def encode_states(
    encoder: SequenceEncoder, windows: Windows, users: NDArray[np.int64] | None = None
) -> NDArray[np.float32]:
    """float32 ``[N, D]``: the user state after each window, in batches, no gradients."""
    encoder.eval()
    states = np.empty((len(windows), encoder.tower.dim), dtype=np.float32)
    with torch.inference_mode():
        for rows in _scoring_chunks(encoder, windows):
            states[rows] = _last_states(encoder, windows.rows(rows), _users_of(users, rows))
    return states


def encode_items(encoder: SequenceEncoder) -> NDArray[np.float32]:
    """float32 ``[I, D]``: the item vectors states are scored against, no gradients."""
    encoder.eval()
    with torch.inference_mode():
        return np.array(encoder.item_vectors().numpy(), dtype=np.float32)


def _last_states(encoder: SequenceEncoder, windows: Windows, users: Tensor | None) -> Tensor:
    items, types, gaps = _inputs(encoder, windows)
    return encoder.last_state(items, types, gaps, users)  # [B, D]


def _users_of(users: NDArray[np.int64] | None, rows: NDArray[np.int64]) -> Tensor | None:
    """The users of the window rows ``[B]`` as a tensor, or ``None`` when users are not read."""
    return torch.from_numpy(users[rows]) if users is not None else None


def _scoring_chunks(encoder: SequenceEncoder, windows: Windows) -> list[NDArray[np.int64]]:
    """Row indices of each chunk scored at once: in length order where the encoder trims
    windows, so that short windows are not padded to the longest one of a random chunk."""
    rows = np.arange(len(windows))
    if encoder.any_length:
        rows = np.argsort((windows.items > 0).sum(axis=1), kind="stable")
    return [rows[start : start + SCORING_ROWS] for start in range(0, len(rows), SCORING_ROWS)]


# ------------------------------------------------------------------------------------------------
# One epoch
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tensors:
    items: Tensor  # [N, L]
    types: Tensor  # [N, L]
    gaps: Tensor  # [N, L]
    targets: Tensor  # [N, L] or [N]
    lengths: NDArray[np.int64]  # [N] events in each window
    users: Tensor | None  # [N] the user of each window, for encoders that read users


def _epoch(
    encoder: SequenceEncoder,
    tensors: _Tensors,
    order_rng: np.random.Generator,
    optimiser: torch.optim.Optimizer,
    loss_of: Loss,
    batch_size: int,
) -> float:
    """One pass over the shuffled examples; returns the mean batch loss."""
    encoder.train()
    lengths = tensors.lengths if encoder.any_length else None
    losses = []
    for batch in _batches(order_rng, len(tensors.items), batch_size, lengths):
        rows = torch.from_numpy(batch)
        items, types, gaps, targets = _batch(encoder, tensors, rows)
        users = tensors.users[rows] if tensors.users is not None else None  # [B]
        states = encoder.readout(encoder(items, types, gaps), users)  # [B, L, D] or [B, D]
        if encoder.every_position:
            real = targets >= 0  # [B, L]
            states, targets = states[real], targets[real]  # [N, D], [N]
        loss = loss_of(states, targets, encoder)
        optimiser.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        optimiser.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses)) if losses else math.nan


def _batches(
    order_rng: np.random.Generator,
    n_rows: int,
    batch_size: int,
    lengths: NDArray[np.int64] | None,
) -> list[NDArray[np.int64]]:
    """Row indices of each batch of one epoch, in a random order.

    With ``lengths`` (encoders that take trimmed windows), rows are sorted by length within
    pools of ``BUCKET_BATCHES`` shuffled batches before being cut into batches: a batch then
    holds windows of similar length, and trimming its padding-only columns saves most of the
    work on data where most sequences are far shorter than ``max_len``. Pools and batch
    order stay random, so every batch is still a random draw of similar-length rows.
    """
    order = order_rng.permutation(n_rows)
    if lengths is None:
        return [order[start : start + batch_size] for start in range(0, n_rows, batch_size)]

    batches: list[NDArray[np.int64]] = []
    pool_size = batch_size * BUCKET_BATCHES
    for pool_start in range(0, n_rows, pool_size):
        pool = order[pool_start : pool_start + pool_size]
        pool = pool[np.argsort(lengths[pool], kind="stable")]
        batches.extend(
            pool[start : start + batch_size] for start in range(0, len(pool), batch_size)
        )
    return [batches[index] for index in order_rng.permutation(len(batches))]


def _batch(
    encoder: SequenceEncoder, tensors: _Tensors, rows: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    items = tensors.items[rows]  # [B, L]
    width = _width(encoder, items)
    targets = tensors.targets[rows]
    if encoder.every_position:
        targets = targets[:, -width:]  # [B, W]
    return items[:, -width:], tensors.types[rows, -width:], tensors.gaps[rows, -width:], targets


def _width(encoder: SequenceEncoder, items: Tensor) -> int:
    """Columns to keep: all, or (for encoders that allow it) those holding any event."""
    if not encoder.any_length:
        return int(items.shape[1])
    return max(1, int((items > 0).sum(dim=1).max()))


def _inputs(encoder: SequenceEncoder, windows: Windows) -> tuple[Tensor, Tensor, Tensor]:
    items = torch.from_numpy(windows.items)
    width = _width(encoder, items)
    types, gaps = torch.from_numpy(windows.types), torch.from_numpy(windows.gaps)
    return items[:, -width:], types[:, -width:], gaps[:, -width:]


def _as_tensors(examples: Windows, users: NDArray[np.int64] | None) -> _Tensors:
    assert examples.targets is not None  # training windows always carry their targets
    return _Tensors(
        torch.from_numpy(examples.items),
        torch.from_numpy(examples.types),
        torch.from_numpy(examples.gaps),
        torch.from_numpy(examples.targets),
        (examples.items > 0).sum(axis=1),
        torch.from_numpy(users) if users is not None else None,
    )


def _snapshot(encoder: SequenceEncoder) -> dict[str, Tensor]:
    return {key: value.detach().clone() for key, value in encoder.state_dict().items()}


def _log_epoch(name: str, max_epochs: int, report: EpochReport, improved: bool) -> None:
    logger.info(
        "%s epoch %d/%d: loss %.4f, valid NDCG@10 %.4f%s, %.2f s",
        name,
        report.epoch,
        max_epochs,
        report.loss,
        report.valid_ndcg,
        " (best)" if improved and not math.isnan(report.valid_ndcg) else "",
        report.seconds,
    )


# ------------------------------------------------------------------------------------------------
# Losses
# ------------------------------------------------------------------------------------------------


def _loss(config: SequenceConfig, target_counts: NDArray[np.float64]) -> Loss:
    if config.loss == "softmax":
        return _full_softmax_bf16 if config.bf16_logits else _full_softmax
    probabilities, log_q = None, None
    if config.negative_sampler == "popularity":
        probabilities = torch.from_numpy((target_counts + 1.0) / (target_counts + 1.0).sum())
        log_q = torch.log(probabilities).float() * config.logq_correction
    elif config.negative_sampler == "targets":
        # Uniform over its support: log Q is the same for every draw, nothing to correct.
        support = target_counts > 0
        probabilities = torch.from_numpy(support / max(int(support.sum()), 1))
    return _SampledSoftmax(
        config.n_negatives,
        len(target_counts),
        probabilities,
        log_q,
        shared=config.shared_negatives,
    )


def _full_softmax(states: Tensor, targets: Tensor, items: ScoredItems) -> Tensor:
    """Cross-entropy over every item: states ``[N, D]``, targets ``[N]``."""
    return _catalogue_cross_entropy(states, items.item_vectors(), targets, torch.float32)


def _full_softmax_bf16(states: Tensor, targets: Tensor, items: ScoredItems) -> Tensor:
    """:func:`_full_softmax` with the ``[N, D] x [D, I]`` product (and its gradients) in
    bfloat16; the softmax and the loss stay float32."""
    return _catalogue_cross_entropy(states, items.item_vectors(), targets, torch.bfloat16)


def _catalogue_cross_entropy(
    states: Tensor, items: Tensor, targets: Tensor, dtype: torch.dtype
) -> Tensor:
    loss: Tensor = _CatalogueCrossEntropy.apply(states, items, targets, dtype)  # type: ignore[no-untyped-call]
    return loss


class _CatalogueCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of ``states [N, D] @ items [I, D].T`` against ``targets [N]``, with a
    hand-written backward.

    The logits ``[N, I]`` are the largest tensor of a full-softmax step. Autograd's route
    (log-softmax, then the loss) writes them out twice more and zero-fills a third copy for
    the gradient; here the logits become their exponentials in place, and those become the
    gradient ``(softmax - one_hot) / N`` in place, so a step reads and writes the ``[N, I]``
    block about half as often. The products run in ``dtype`` (float32 or bfloat16); the
    softmax always runs in float32.
    """

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        states: Tensor,
        items: Tensor,
        targets: Tensor,
        dtype: torch.dtype,
    ) -> Tensor:
        low_states, low_items = states.to(dtype), items.to(dtype)
        exponentials = (low_states @ low_items.T).float()  # logits [N, I], made over in place
        exponentials.sub_(exponentials.amax(dim=1, keepdim=True))  # logits - row max
        target_logits = exponentials.gather(1, targets[:, None]).squeeze(1)  # [N]
        exponentials.exp_()
        totals = exponentials.sum(dim=1)  # [N]
        loss = (totals.log() - target_logits).mean()
        ctx.save_for_backward(low_states, low_items, targets, totals)
        ctx.exponentials = exponentials  # type: ignore[attr-defined]  # backward overwrites it
        return loss

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad_loss: Tensor
    ) -> tuple[Tensor, Tensor, None, None]:
        low_states, low_items, targets, totals = ctx.saved_tensors  # type: ignore[attr-defined]
        gradient: Tensor = ctx.exponentials  # type: ignore[attr-defined]
        del ctx.exponentials  # type: ignore[attr-defined]
        gradient.mul_((grad_loss / len(targets)) / totals[:, None])  # softmax / N
        gradient[torch.arange(len(targets)), targets] -= grad_loss / len(targets)
        low_gradient = gradient.to(low_items.dtype)
        grad_states = (low_gradient @ low_items).float()  # [N, D]
        grad_items = (low_gradient.T @ low_states).float()  # [I, D]
        return grad_states, grad_items, None, None


class _SampledSoftmax:
    """Cross-entropy over each target and ``K`` sampled negatives.

    ``shared``: the negatives are drawn once per batch, which turns the negative logits into
    one ``[N, D] x [D, K]`` product, the cheap form on a CPU. Otherwise each training position
    draws its own ``K``: a step then pushes down up to ``N * K`` distinct items instead of
    ``K``, which regularises the item vectors of a large catalogue far better per epoch.

    A negative that happens to be a position's target is masked out of its row (an accidental
    hit is not a negative). With the popularity sampler, ``logq_correction`` of ``log Q`` is
    subtracted from every logit (Yi et al., RecSys 2019), so that popular items are not
    over-penalised for being drawn often.
    """

    def __init__(
        self,
        n_negatives: int,
        n_items: int,
        probabilities: Tensor | None,
        log_q: Tensor | None,
        *,
        shared: bool = True,
    ) -> None:
        self.n_negatives = n_negatives
        self.n_items = n_items
        self.probabilities = probabilities  # [I] of the sampler; None: uniform
        self.log_q = log_q  # [I] the share of log Q to subtract; None: nothing
        self.shared = shared

    def __call__(self, states: Tensor, targets: Tensor, items: ScoredItems) -> Tensor:
        # Drawn before the towers run: a tower may draw random numbers too (id dropout), and
        # this order keeps a seed's negatives the same whatever the tower.
        drawn = self._draw(() if self.shared else (len(targets),))  # [K] or [N, K]
        positive = (states * items.vectors_of(targets)).sum(dim=1, keepdim=True)  # [N, 1]
        if self.shared:
            negative = states @ items.vectors_of(drawn).T  # [N, K]
            negatives = drawn.expand(len(targets), -1)  # [N, K], one row repeated
        else:
            negatives = drawn
            negative = torch.einsum("nd,nkd->nk", states, items.vectors_of(negatives))  # [N, K]
        negative = negative.masked_fill(negatives == targets[:, None], -math.inf)
        logits = torch.cat([positive, negative], dim=1)  # [N, 1 + K]
        if self.log_q is not None:
            logits = logits - torch.cat([self.log_q[targets, None], self.log_q[negatives]], dim=1)
        zeros = torch.zeros(len(targets), dtype=torch.long)  # the target is column 0
        return functional.cross_entropy(logits, zeros)

    def _draw(self, rows: tuple[int, ...]) -> Tensor:
        """Negatives ``[*rows, K]`` from the sampler."""
        shape = (*rows, self.n_negatives)
        if self.probabilities is None:
            return torch.randint(self.n_items, shape)
        n_draws = math.prod(shape)
        drawn = torch.multinomial(self.probabilities, n_draws, replacement=True)
        return drawn.view(shape)


def _target_counts(examples: Windows, n_items: int) -> NDArray[np.float64]:
    assert examples.targets is not None  # training windows always carry their targets
    targets = examples.targets[examples.targets >= 0]
    return np.bincount(targets, minlength=n_items).astype(np.float64)


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------


def _ndcg_of_rows(
    encoder: SequenceEncoder, padded: Tensor, rows: Windows, users: Tensor | None
) -> Tensor:
    """NDCG@10 ``[B]`` of one chunk of validation windows; ``padded`` is ``[1 + I, D]``."""
    assert rows.targets is not None  # validation windows always carry their targets
    items, types, gaps = _inputs(encoder, rows)
    states = encoder.last_state(items, types, gaps, users)  # [B, D]
    scores = states @ padded.T  # [B, 1 + I], column 0 = padding
    scores.scatter_(1, items, -math.inf)  # seen items and the padding column
    target_scores = scores.gather(1, torch.from_numpy(rows.targets + 1)[:, None])  # [B, 1]

    rank = (scores > target_scores).sum(dim=1)  # [B], 0 = first
    hit = torch.isfinite(target_scores[:, 0]) & (rank < NDCG_DEPTH)
    gain = 1.0 / torch.log2(rank.double() + 2.0)  # [B]
    return torch.where(hit, gain, torch.zeros_like(gain))
