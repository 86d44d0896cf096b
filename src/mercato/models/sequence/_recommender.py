"""What every sequence model shares: fit through the one loop, score by encoding windows.

A subclass only names itself, its config class and its encoder (``_build_encoder``).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import NDArray

from mercato.models._base import Recommender
from mercato.models._training import TrainingData
from mercato.models.sequence._config import SequenceConfig
from mercato.models.sequence._data import (
    Sequences,
    Windows,
    build_sequences,
    hold_out_last,
    resolve_key,
    training_windows,
    windows_of_histories,
    windows_of_users,
)
from mercato.models.sequence._loop import (
    EpochReport,
    best_epoch,
    encode_items,
    encode_scores,
    seeded,
    train,
)
from mercato.models.sequence._modules import ItemTower, SequenceEncoder

__all__ = ["SequenceRecommender", "window_owners"]

logger = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT", bound=SequenceConfig)

_NETWORK = "net."


class SequenceRecommender(Recommender[ConfigT]):
    """A next-item model: an encoder over each user's recent events, scored against items.

    ``fit`` cuts the training events into sequences (per user, or per session, see
    ``sequence_key``), holds out the last event of each sequence of three or more for early
    stopping (at most ``max_valid`` of them), and trains through the shared loop; with
    ``refit`` a fresh encoder then trains on every event for the best epoch count.
    ``score_users`` encodes the last ``max_len``
    events of each user's training history (behaviour types and time gaps included);
    ``score_histories`` encodes the given item order, every event typed as the most common
    training behaviour, with unknown time gaps. Cold users and empty histories get popularity.

    ``fit`` seeds torch from ``config.seed`` inside a forked random state and turns on
    deterministic algorithms while it runs, so it does not disturb the caller's generator. It
    uses torch's current thread count (``torch.set_num_threads``).

    Args:
        config: the model's config, or ``None`` for keyword settings.
        checkpoint_dir: where ``fit`` saves its progress after every epoch (one file per
            phase: the early-stopped run and the refit), and resumes from when it is run again
            on the same data and settings; ``None`` for no checkpoints. Not a setting: where
            a run is saved does not change the model.
        **overrides: settings of the config.

    Stability: experimental.
    """

    _encoder: SequenceEncoder
    _item_matrix: NDArray[np.float32]  # [I, D] the scored item vectors, made once per fit or load
    _user_windows: Windows  # [n_users, L]; all padding for users without events
    _behaviour: int  # behaviour input given to every event of a plain history

    def __init__(
        self,
        config: ConfigT | None = None,
        /,
        *,
        checkpoint_dir: str | Path | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(config, **overrides)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None

    # ----------------------------------------------------------------------------------------
    # What a subclass provides
    # ----------------------------------------------------------------------------------------

    @abstractmethod
    def _build_encoder(self, tower: ItemTower) -> SequenceEncoder:
        """The untrained encoder over ``tower``."""

    def _build_tower(self, n_items: int) -> ItemTower:
        """The item tower: an id embedding here; content models fuse item features into it."""
        return ItemTower(n_items, self.config.embedding_dim)

    # ----------------------------------------------------------------------------------------
    # Fit
    # ----------------------------------------------------------------------------------------

    def _fit(self, training: TrainingData) -> None:
        config, dataset = self.config, training.dataset
        key = resolve_key(dataset, config.sequence_key)
        sequences = build_sequences(dataset, config.weights, key, config.time_buckets)
        train_sequences, valid = hold_out_last(sequences, config.max_len)

        with seeded(config.seed):
            encoder = self._build_encoder(self._build_tower(training.n_items))
            examples = training_windows(
                train_sequences, config.max_len, every_position=encoder.every_position
            )
            logger.info(
                "%s: %d %s sequences, %d training windows, %d validation targets",
                self.name,
                len(sequences),
                key,
                len(examples),
                len(valid),
            )
            users = _window_users(encoder, sequences, train_sequences)
            valid, users = _sampled_validation(valid, users, config.max_valid, config.seed)
            reports = self._train(encoder, examples, valid, users)

        if config.refit and len(valid) and reports:
            encoder = self._refit(sequences, training.n_items, best_epoch(reports))

        self._encoder = encoder.eval()
        self._item_matrix = encode_items(encoder)
        self._user_windows = windows_of_users(
            dataset, config.weights, config.time_buckets, config.max_len
        )
        self._behaviour = _most_common(sequences.types)

    def _train(
        self,
        encoder: SequenceEncoder,
        examples: Windows,
        valid: Windows,
        users: tuple[NDArray[np.int64], NDArray[np.int64]] | None,
    ) -> list[EpochReport]:
        if not len(examples):
            logger.warning(
                "%s: no sequence has two events to learn a transition from; the encoder "
                "stays untrained",
                self.name,
            )
            return []
        example_users, valid_users = users if users is not None else (None, None)
        return train(
            encoder,
            examples,
            valid if len(valid) else None,
            self.config,
            name=self.name,
            example_users=example_users,
            valid_users=valid_users,
            checkpoint=self._checkpoint("train"),
        )

    def _refit(self, sequences: Sequences, n_items: int, epochs: int) -> SequenceEncoder:
        """A fresh encoder trained on every event of ``sequences`` for ``epochs`` epochs."""
        config = replace(self.config, max_epochs=epochs)
        logger.info("%s: refitting on every event for %d epochs", self.name, epochs)
        with seeded(config.seed):
            encoder = self._build_encoder(self._build_tower(n_items))
            examples = training_windows(
                sequences, config.max_len, every_position=encoder.every_position
            )
            example_users = _example_users(encoder, sequences)
            train(
                encoder,
                examples,
                None,
                config,
                name=self.name,
                example_users=example_users,
                checkpoint=self._checkpoint("refit"),
            )
        return encoder

    def _checkpoint(self, phase: str) -> Path | None:
        """The checkpoint file of one training phase (``train`` or ``refit``), if any."""
        if self.checkpoint_dir is None:
            return None
        return self.checkpoint_dir / f"{self.name}-{phase}.pt"

    # ----------------------------------------------------------------------------------------
    # Score
    # ----------------------------------------------------------------------------------------

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        readers = users if self._encoder.reads_users else None
        windows = self._user_windows.rows(users)
        return encode_scores(self._encoder, windows, self._item_matrix, readers)

    def _score_ordered_histories(
        self, history_items: sp.csr_matrix, histories: list[NDArray[np.int64]]
    ) -> NDArray[np.float32]:
        windows = windows_of_histories(histories, self._behaviour, self.config.max_len)
        return encode_scores(self._encoder, windows, self._item_matrix)

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        # A matrix carries no order: its items are read in index order, once each. The base
        # class hands sequence models the ordered histories instead; this serves direct calls.
        histories = np.split(history_items.indices.astype(np.int64), history_items.indptr[1:-1])
        return self._score_ordered_histories(history_items, histories)

    # ----------------------------------------------------------------------------------------
    # Save and load
    # ----------------------------------------------------------------------------------------

    def _state(self) -> dict[str, NDArray[Any]]:
        network = {
            f"{_NETWORK}{key}": value.detach().cpu().numpy()
            for key, value in self._encoder.state_dict().items()
        }
        return {
            **network,
            "n_items": np.asarray(self._encoder.tower.n_items, dtype=np.int64),
            "behaviour": np.asarray(self._behaviour, dtype=np.int64),
            "user_items": self._user_windows.items,
            "user_types": self._user_windows.types,
            "user_gaps": self._user_windows.gaps,
        }

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        weights = {
            key.removeprefix(_NETWORK): torch.from_numpy(value)
            for key, value in state.items()
            if key.startswith(_NETWORK)
        }
        self._restore_inputs(weights)
        with seeded(self.config.seed):
            encoder = self._build_encoder(self._build_tower(int(state["n_items"])))
        encoder.load_state_dict(weights)
        self._encoder = encoder.eval()
        self._item_matrix = encode_items(encoder)
        self._behaviour = int(state["behaviour"])
        self._user_windows = Windows(state["user_items"], state["user_types"], state["user_gaps"])

    def _restore_inputs(self, network: dict[str, torch.Tensor]) -> None:
        """Reads back, from the saved network's ``state_dict``, whatever the encoder's shapes
        depend on beyond the config (content models: their feature buffers), before the
        encoder is built again. The id-only encoders need nothing."""


def window_owners(sequences: Sequences, cut: Callable[[Sequences], Windows]) -> NDArray[np.int64]:
    """int64 ``[N]``: the user of each window that ``cut(sequences)`` makes (-1: anonymous).

    ``cut`` runs again on the same sequences with every event's item replaced by its
    sequence's owner, so the windows come out in the same order and number. The last column of
    a training or validation window always holds an event, so it names the owner (item inputs
    are shifted by one, and the owner by one more so that -1 does not read as padding).
    """
    event_sequence = np.searchsorted(sequences.starts, np.arange(len(sequences.items)), "right") - 1
    tagged = replace(sequences, items=sequences.owners[event_sequence] + 1)
    return cut(tagged).items[:, -1] - 2


def _window_users(
    encoder: SequenceEncoder, sequences: Sequences, train_sequences: Sequences
) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
    """The user of each training and of each validation window, for encoders that read users.

    The windows are cut again one column wide: the owners need the last column only, and the
    number and order of windows do not depend on the width.
    """
    example_users = _example_users(encoder, train_sequences)
    if example_users is None:
        return None
    return example_users, window_owners(sequences, lambda cut: hold_out_last(cut, 1)[1])


def _example_users(encoder: SequenceEncoder, sequences: Sequences) -> NDArray[np.int64] | None:
    """The user of each training window of ``sequences``, for encoders that read users."""
    if not encoder.reads_users:
        return None
    every_position = encoder.every_position
    return window_owners(
        sequences, lambda cut: training_windows(cut, 1, every_position=every_position)
    )


def _sampled_validation(
    valid: Windows,
    users: tuple[NDArray[np.int64], NDArray[np.int64]] | None,
    max_valid: int | None,
    seed: int,
) -> tuple[Windows, tuple[NDArray[np.int64], NDArray[np.int64]] | None]:
    """At most ``max_valid`` of the validation windows (and their users), drawn with ``seed``.

    Every epoch ranks the whole catalogue for each validation window; on a shop with a
    hundred thousand sequences that costs more than the epoch itself, while a sample of ten
    thousand already tells a better epoch from a worse one.
    """
    if max_valid is None or len(valid) <= max_valid:
        return valid, users
    kept = np.sort(np.random.default_rng(seed).choice(len(valid), max_valid, replace=False))
    logger.info("validating on %d of %d held-out events", max_valid, len(valid))
    kept_users = (users[0], users[1][kept]) if users is not None else None
    return valid.rows(kept), kept_users


def _most_common(types: NDArray[np.int64]) -> int:
    """The most frequent behaviour input (ties: the lower code); 1 (a view) when empty."""
    if len(types) == 0:
        return 1
    return int(np.argmax(np.bincount(types)))
