"""Settings of the sequence models: one shared base, one subclass per encoder.

Every setting is validated when the config is built; a bad value raises
:class:`~mercato.errors.ConfigError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mercato.errors import ConfigError
from mercato.models._config import ModelConfig, check_choice, check_float, check_int

__all__ = ["CaserConfig", "GRU4RecConfig", "SASRecConfig", "SequenceConfig"]

SEQUENCE_KEYS = ("auto", "user", "session")
LOSSES = ("softmax", "sampled")
SAMPLERS = ("uniform", "popularity")


@dataclass(frozen=True, kw_only=True)
class SequenceConfig(ModelConfig):
    """Settings every sequence model shares: inputs, training loop, early stopping.

    Attributes:
        embedding_dim: width ``D`` of item, behaviour and time-gap embeddings and of the user
            state (``>= 1``).
        max_len: the model reads the last ``max_len`` events of a sequence (``>= 1``).
        sequence_key: what one training sequence is: ``"user"`` (a user's events, plus one
            sequence per anonymous session), ``"session"`` (one per session; a user's events
            without a session form one sequence), or ``"auto"``: ``"user"`` when any event has a
            user, else ``"session"``.
        time_buckets: time-gap embedding rows (``>= 2``): bucket 0 means unknown (no timestamp,
            or the first event of a sequence); a gap of ``s`` seconds falls in bucket
            ``1 + floor(log2(1 + s))``, capped at ``time_buckets - 1``.
        loss: ``"softmax"`` (cross-entropy over every item) or ``"sampled"`` (cross-entropy
            over the target and ``n_negatives`` sampled items).
        n_negatives: negatives per batch for the sampled loss, shared by every position in the
            batch (``>= 1``).
        negative_sampler: ``"uniform"`` over the catalogue, or ``"popularity"`` (proportional
            to how often an item is a training target, plus one).
        logq_correction: how much of ``log Q(item)`` is subtracted from each sampled logit
            (Yi et al., 2019), in ``[0, 1]``; 1 removes the sampler's bias fully. It has no
            effect with the uniform sampler, where ``Q`` is the same for every item.
        max_epochs: upper bound on passes over the training examples (``>= 1``).
        batch_size: training examples per step (``>= 1``).
        lr: AdamW learning rate (``> 0``).
        weight_decay: AdamW decoupled weight decay (``>= 0``).
        dropout: dropout probability inside the encoder, in ``[0, 1)``.
        patience: stop after this many epochs without a better validation NDCG@10 (``>= 1``).

    Stability: experimental; settings may be added or renamed while the sequence models settle.
    """

    embedding_dim: int = 64
    max_len: int = 50
    sequence_key: str = "auto"
    time_buckets: int = 32
    loss: str = "sampled"
    n_negatives: int = 256
    negative_sampler: str = "uniform"
    logq_correction: float = 0.0
    max_epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    dropout: float = 0.2
    patience: int = 10

    def _check(self) -> None:
        check_int(self, "embedding_dim", low=1)
        check_int(self, "max_len", low=1)
        check_choice(self, "sequence_key", SEQUENCE_KEYS)
        check_int(self, "time_buckets", low=2)
        check_choice(self, "loss", LOSSES)
        check_int(self, "n_negatives", low=1)
        check_choice(self, "negative_sampler", SAMPLERS)
        check_float(self, "logq_correction", low=0.0, high=1.0)
        check_int(self, "max_epochs", low=1)
        check_int(self, "batch_size", low=1)
        check_float(self, "lr", low=0.0, low_inclusive=False)
        check_float(self, "weight_decay", low=0.0)
        check_float(self, "dropout", low=0.0, high=1.0)
        if self.dropout >= 1.0:
            raise ConfigError(f"dropout must be a finite number in [0.0, 1.0); got {self.dropout}.")
        check_int(self, "patience", low=1)
        self._check_encoder()

    def _check_encoder(self) -> None:
        """Validates the encoder's own settings."""


@dataclass(frozen=True, kw_only=True)
class SASRecConfig(SequenceConfig):
    """Settings of :class:`~mercato.models.SASRec`.

    Attributes:
        n_blocks: self-attention blocks (``>= 1``).
        n_heads: attention heads per block (``>= 1``); must divide ``embedding_dim``.

    Stability: experimental.
    """

    n_blocks: int = 2
    n_heads: int = 1

    def _check_encoder(self) -> None:
        check_int(self, "n_blocks", low=1)
        check_int(self, "n_heads", low=1)
        if self.embedding_dim % self.n_heads:
            raise ConfigError(
                f"n_heads must divide embedding_dim; got n_heads={self.n_heads} and "
                f"embedding_dim={self.embedding_dim}."
            )


@dataclass(frozen=True, kw_only=True)
class GRU4RecConfig(SequenceConfig):
    """Settings of :class:`~mercato.models.GRU4Rec`.

    Attributes:
        n_layers: stacked GRU layers (``>= 1``).

    Stability: experimental.
    """

    n_layers: int = 1

    def _check_encoder(self) -> None:
        check_int(self, "n_layers", low=1)


@dataclass(frozen=True, kw_only=True)
class CaserConfig(SequenceConfig):
    """Settings of :class:`~mercato.models.Caser`; ``max_len`` is the paper's window ``L``.

    Attributes:
        n_horizontal: horizontal filters per height ``1 .. max_len`` (``>= 1``).
        n_vertical: vertical filters (``>= 1``).

    Stability: experimental.
    """

    max_len: int = 5
    n_horizontal: int = 16
    n_vertical: int = 4

    def _check_encoder(self) -> None:
        check_int(self, "n_horizontal", low=1)
        check_int(self, "n_vertical", low=1)
