"""From a ``Dataset`` to what a sequence encoder reads: padded windows of recent events.

Shape letters: ``E`` events, ``S`` sequences, ``N`` windows, ``L`` window length (``max_len``).

Encoder inputs are three int64 arrays of the same shape, left-padded so that the most recent event
is always in the last column:

- items: item index + 1 (0 = padding),
- types: ``EventType.code`` + 1 (0 = padding),
- gaps: time-gap bucket, ``1 + floor(log2(1 + seconds since the previous event))`` capped at
  ``time_buckets - 1``; 0 = unknown (no timestamp, first event of a sequence, or padding).

Only events whose type has a positive weight in ``event_weights`` enter a sequence, so a model
reads the same events the collaborative models count. Everything here is vectorised: no Python
loop runs per event or per sequence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mercato.data._dataset import Dataset
from mercato.data._schema import EventType
from mercato.models._training import event_weight_values

__all__ = [
    "N_TYPES",
    "Sequences",
    "Windows",
    "build_sequences",
    "gap_buckets",
    "hold_out_last",
    "last_windows",
    "resolve_key",
    "training_windows",
    "windows_of_histories",
    "windows_of_users",
]

logger = logging.getLogger(__name__)

#: Rows of the behaviour-type embedding: every ``EventType`` plus padding.
N_TYPES = len(EventType) + 1

#: A sequence needs this many events to give one to validation and keep one transition.
_MIN_HOLD_OUT_LENGTH = 3

_TYPE_INPUTS = {event.value: event.code + 1 for event in EventType}


@dataclass(frozen=True)
class Sequences:
    """Event sequences in time order, stored flat: sequence ``s`` is ``starts[s]:ends[s]``.

    Attributes:
        items: int64 ``[E]`` item indices (0-based, not shifted).
        types: int64 ``[E]`` behaviour inputs (``EventType.code + 1``).
        gaps: int64 ``[E]`` time-gap buckets.
        starts: int64 ``[S]`` first event of each sequence.
        ends: int64 ``[S]`` one past the last event of each sequence.
        owners: int64 ``[S]`` the user of each sequence, or -1 (an anonymous session).
    """

    items: NDArray[np.int64]
    types: NDArray[np.int64]
    gaps: NDArray[np.int64]
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    owners: NDArray[np.int64]

    @property
    def lengths(self) -> NDArray[np.int64]:
        return self.ends - self.starts

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class Windows:
    """Encoder inputs, one left-padded row per example, and what each row should predict.

    Attributes:
        items: int64 ``[N, L]`` item inputs (item index + 1, 0 = padding).
        types: int64 ``[N, L]`` behaviour inputs (0 = padding).
        gaps: int64 ``[N, L]`` time-gap buckets (0 = unknown or padding).
        targets: int64 ``[N, L]`` the next item after each input position (-1 under padding),
            or ``[N]`` the item after the last position; ``None`` when nothing is predicted.
    """

    items: NDArray[np.int64]
    types: NDArray[np.int64]
    gaps: NDArray[np.int64]
    targets: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.items.shape[0])

    def rows(self, index: NDArray[np.int64]) -> Windows:
        """The windows at ``index``, in that order."""
        targets = self.targets[index] if self.targets is not None else None
        return Windows(self.items[index], self.types[index], self.gaps[index], targets)


def resolve_key(dataset: Dataset, sequence_key: str) -> str:
    """``"user"`` or ``"session"``: what ``sequence_key="auto"`` means for this dataset."""
    if sequence_key != "auto":
        return sequence_key
    has_users = bool((dataset.events["user_idx"].to_numpy() >= 0).any())
    return "user" if has_users else "session"


def build_sequences(
    dataset: Dataset,
    weights: Mapping[EventType, float],
    key: str,
    time_buckets: int,
    *,
    users_only: bool = False,
) -> Sequences:
    """The dataset's weighted events cut into sequences by ``key`` (``"user"``/``"session"``).

    With ``key="user"`` each user is one sequence and so is each anonymous session; with
    ``"session"`` each session is one, and a user's events without a session form one more.
    ``users_only`` keeps only users' sequences, in user order (what ``score_users`` reads).
    Events with neither a user nor a session are left out.
    """
    events = dataset.events[event_weight_values(dataset.events, weights) > 0]
    keys = _sequence_keys(events, key, dataset.n_users)
    if users_only:
        keys = np.where(events["user_idx"].to_numpy() >= 0, keys, -1)
    kept = keys >= 0
    frame = events.loc[kept, ["user_idx", "item_idx", "event_type", "timestamp", "position"]]
    frame = frame.assign(key=keys[kept])

    # Time order within a sequence; the source order breaks ties and orders missing clocks.
    frame = frame.sort_values(["key", "timestamp", "position"], kind="stable")
    sequence_keys = frame["key"].to_numpy()
    starts = np.flatnonzero(np.diff(sequence_keys, prepend=-1) != 0).astype(np.int64)
    ends = np.r_[starts[1:], len(frame)].astype(np.int64)

    return Sequences(
        items=frame["item_idx"].to_numpy(np.int64),
        types=np.asarray(frame["event_type"].map(_TYPE_INPUTS).fillna(0), dtype=np.int64),
        gaps=_event_gaps(frame["timestamp"], starts, time_buckets),
        starts=starts,
        ends=ends,
        owners=frame["user_idx"].to_numpy(np.int64)[starts],
    )


def gap_buckets(seconds: NDArray[np.float64], time_buckets: int) -> NDArray[np.int64]:
    """int64 bucket of each gap in seconds; NaN (unknown) and negative gaps get bucket 0.

    Log buckets, because a gap of seconds (browsing) and of weeks (a return visit) say
    different things, while 3 versus 4 weeks hardly differ.
    """
    buckets = np.zeros(len(seconds), dtype=np.int64)
    known = np.isfinite(seconds) & (seconds >= 0)
    logs = np.floor(np.log2(1.0 + seconds[known]))
    buckets[known] = 1 + np.minimum(logs, time_buckets - 2).astype(np.int64)
    return buckets


def hold_out_last(sequences: Sequences, max_len: int) -> tuple[Sequences, Windows]:
    """Each long enough sequence's last event as a validation target; the rest trains.

    Sequences shorter than 3 events keep everything (holding one out would leave nothing to
    learn from them). Returns the shortened training sequences and the validation windows:
    inputs ``[V, max_len]`` and targets ``[V]``.
    """
    held = sequences.lengths >= _MIN_HOLD_OUT_LENGTH
    ends = np.where(held, sequences.ends - 1, sequences.ends)
    train = replace(sequences, ends=ends)
    valid = _gather(sequences, ends[held], sequences.starts[held], max_len)
    return train, replace(valid, targets=sequences.items[ends[held]])


def training_windows(sequences: Sequences, max_len: int, *, every_position: bool) -> Windows:
    """Training examples of the sequences.

    ``every_position``: one window per sequence of two or more events, its last ``max_len``
    transitions, targets ``[N, L]`` = the next item at every position (SASRec, GRU4Rec).
    Otherwise one window per event after the first of its sequence, the ``max_len`` events
    before it as input and that event as target ``[N]`` (Caser's sliding windows).
    """
    if every_position:
        long_enough = sequences.lengths >= 2
        ends = sequences.ends[long_enough] - 1  # the last event is only ever a target
        starts = sequences.starts[long_enough]
        windows = _gather(sequences, ends, starts, max_len)
        shifted = _gather(sequences, ends + 1, starts + 1, max_len)
        targets = np.where(windows.items > 0, shifted.items - 1, -1)  # [N, L]
        return replace(windows, targets=targets)

    in_sequence = np.repeat(np.arange(len(sequences)), sequences.lengths)
    positions = np.arange(len(sequences.items)) if len(sequences) == 0 else _positions(sequences)
    not_first = positions > sequences.starts[in_sequence]
    ends = positions[not_first]
    windows = _gather(sequences, ends, sequences.starts[in_sequence][not_first], max_len)
    return replace(windows, targets=sequences.items[ends])


def last_windows(sequences: Sequences, max_len: int) -> Windows:
    """The last ``max_len`` events of every sequence: inputs ``[S, max_len]``, no targets."""
    return _gather(sequences, sequences.ends, sequences.starts, max_len)


def windows_of_histories(
    histories: list[NDArray[np.int64]], behaviour: int, max_len: int
) -> Windows:
    """Windows of plain item histories: every event gets behaviour input ``behaviour`` and an
    unknown time gap (a history carries neither)."""
    lengths = np.fromiter((len(history) for history in histories), np.int64, len(histories))
    ends = np.cumsum(lengths)
    items = np.concatenate(histories) if histories else np.zeros(0, dtype=np.int64)
    sequences = Sequences(
        items=items.astype(np.int64, copy=False),
        types=np.full(len(items), behaviour, dtype=np.int64),
        gaps=np.zeros(len(items), dtype=np.int64),
        starts=ends - lengths,
        ends=ends,
        owners=np.full(len(histories), -1, dtype=np.int64),
    )
    return last_windows(sequences, max_len)


def windows_of_users(
    dataset: Dataset, weights: Mapping[EventType, float], time_buckets: int, max_len: int
) -> Windows:
    """``[n_users, max_len]`` windows of each user's last events (all padding for a user with
    none), whatever ``sequence_key`` cut the training sequences by: what ``score_users`` reads.
    """
    users = build_sequences(dataset, weights, "user", time_buckets, users_only=True)
    known = last_windows(users, max_len)  # [users with events, L]
    windows = Windows(*(np.zeros((dataset.n_users, max_len), dtype=np.int64) for _ in range(3)))
    windows.items[users.owners] = known.items
    windows.types[users.owners] = known.types
    windows.gaps[users.owners] = known.gaps
    return windows


def _gather(
    sequences: Sequences, ends: NDArray[np.int64], starts: NDArray[np.int64], max_len: int
) -> Windows:
    """Windows of the up to ``max_len`` events before each ``ends[n]`` and not before
    ``starts[n]``, left-padded: the event at ``ends[n] - 1`` sits in the last column."""
    index = ends[:, None] - max_len + np.arange(max_len)[None, :]  # [N, L] flat event positions
    inside = index >= starts[:, None]
    index = np.where(inside, index, 0)
    if len(sequences.items) == 0:
        empty = np.zeros(index.shape, dtype=np.int64)
        return Windows(empty, empty.copy(), empty.copy())
    return Windows(
        items=np.where(inside, sequences.items[index] + 1, 0),
        types=np.where(inside, sequences.types[index], 0),
        gaps=np.where(inside, sequences.gaps[index], 0),
    )


def _positions(sequences: Sequences) -> NDArray[np.int64]:
    """Flat positions of every event that lies inside its sequence's ``starts:ends``."""
    lengths = sequences.lengths
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(sequences.starts, lengths) + offsets


def _sequence_keys(events: pd.DataFrame, key: str, n_users: int) -> NDArray[np.int64]:
    """int64 ``[E]`` sequence key of each event; -1 for events that join no sequence."""
    users = events["user_idx"].to_numpy(np.int64)
    sessions = events["session_idx"].to_numpy(np.int64)
    keys = np.full(len(events), -1, dtype=np.int64)
    if key == "user":
        # Anonymous sessions after the users: the layout of the collaborative training rows.
        keys[users >= 0] = users[users >= 0]
        anonymous = (users < 0) & (sessions >= 0)
        keys[anonymous] = n_users + sessions[anonymous]
        return keys

    keys[sessions >= 0] = sessions[sessions >= 0]
    sessionless = (sessions < 0) & (users >= 0)
    keys[sessionless] = int(sessions.max(initial=-1)) + 1 + users[sessionless]
    return keys


def _event_gaps(
    timestamps: pd.Series, starts: NDArray[np.int64], time_buckets: int
) -> NDArray[np.int64]:
    """Bucketed seconds since the previous event of the same sequence (0 for the first)."""
    if len(timestamps) == 0:
        return np.zeros(0, dtype=np.int64)
    seconds = timestamps.diff().dt.total_seconds().to_numpy(np.float64, na_value=np.nan, copy=True)
    seconds[starts] = np.nan
    return gap_buckets(seconds, time_buckets)
