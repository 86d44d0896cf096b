"""Building blocks every sequence encoder shares: the item tower, the event embedding, the base.

Shape letters: ``B`` batch rows, ``L`` window length, ``D`` embedding width, ``I`` items.

Item inputs are shifted by one (0 = padding), as in :mod:`mercato.models.sequence._data`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Protocol

import torch
from torch import Tensor, nn
from torch.nn import functional

from mercato.models.sequence._config import SequenceConfig
from mercato.models.sequence._data import N_TYPES

__all__ = ["TOWER_KEY", "EventEmbedding", "ItemTower", "ScoredItems", "SequenceEncoder"]

#: Standard deviation of the embedding initialisation: small, so that early dot-product
#: logits are near zero and the softmax starts close to uniform.
EMBEDDING_INIT_STD = 0.02

#: Where an encoder's item tower sits in its ``state_dict``: keys start ``"events.tower."``.
TOWER_KEY = "events.tower"


class ItemTower(nn.Module):
    """The one place an item's vector is made; encoders read it and scores are taken against it.

    Inputs and scores share these vectors (weight tying): an item's input embedding is also its
    output embedding, so a user state ``[D]`` scores item ``i`` as ``state . item_vectors()[i]``.

    This tower is an id embedding only. It is the seam for content: a replacement keeps the two
    methods below with the same shapes, may fuse item features (text, image, category, price
    encodings) into each vector, and registers those features as buffers so that they travel
    in the ``state_dict`` a saved model holds, as ``MultimodalItemTower`` does. Sequence models
    build their tower in ``SequenceRecommender._build_tower``.

    Example:
        >>> tower = ItemTower(n_items=5, dim=8)
        >>> tower(torch.tensor([[0, 3]])).shape  # padding and item 2
        torch.Size([1, 2, 8])
        >>> tower.item_vectors().shape
        torch.Size([5, 8])

    Stability: experimental; the seam is meant to stay while the tower behind it grows.
    """

    def __init__(self, n_items: int, dim: int) -> None:
        super().__init__()
        self.n_items = n_items
        self.dim = dim
        self.ids = nn.Embedding(n_items + 1, dim, padding_idx=0)
        nn.init.normal_(self.ids.weight, std=EMBEDDING_INIT_STD)
        with torch.no_grad():
            self.ids.weight[0].zero_()

    def forward(self, items: Tensor) -> Tensor:
        """Vectors ``[*, D]`` of items given as shifted ids ``[*]`` (0 = padding: zeros)."""
        vectors: Tensor = self.ids(items)
        return vectors

    def item_vectors(self) -> Tensor:
        """``[I, D]``: row ``i`` is the vector of item index ``i``."""
        return self.ids.weight[1:]

    def vectors_of(self, items: Tensor) -> Tensor:
        """Vectors ``[*, D]`` of item indices ``[*]`` (not shifted: ``0`` is the first item)."""
        vectors: Tensor = self(items + 1)
        return vectors


class ScoredItems(Protocol):
    """What a training loss scores states against: an encoder, or a bare tower in tests."""

    def item_vectors(self) -> Tensor:
        """``[I, D]``: every item's vector."""

    def vectors_of(self, items: Tensor) -> Tensor:
        """``[*, D]``: the vectors of item indices ``[*]``."""


class EventEmbedding(nn.Module):
    """What an encoder reads at each position: item vector + behaviour type + time gap.

    Adding a behaviour embedding lets a cart say more than a view of the same item; the gap
    embedding lets a return after weeks read differently from a click seconds later.
    Padding positions come out as zeros.
    """

    def __init__(self, tower: ItemTower, time_buckets: int, dim: int) -> None:
        super().__init__()
        self.tower = tower
        self.types = nn.Embedding(N_TYPES, dim, padding_idx=0)
        self.gaps = nn.Embedding(time_buckets, dim)
        nn.init.normal_(self.types.weight, std=EMBEDDING_INIT_STD)
        nn.init.normal_(self.gaps.weight, std=EMBEDDING_INIT_STD)

    def forward(self, items: Tensor, types: Tensor, gaps: Tensor) -> Tensor:
        """``[B, L]`` x 3 int64 inputs -> ``[B, L, D]``."""
        events: Tensor = self.tower(items) + self.types(types) + self.gaps(gaps)  # [B, L, D]
        return events * (items > 0).unsqueeze(-1)  # padding reads as nothing


class SequenceEncoder(nn.Module, ABC):
    """Maps windows of events ``[B, L]`` to user states, scored against the item tower.

    Subclasses say whether ``forward`` returns a state at every position ``[B, L, D]`` (trained
    on the next item at each step) or at the last one only ``[B, D]``, and whether they accept
    windows narrower than ``max_len`` (so batches can drop columns that are padding only).

    ``user_context``, when set, maps user indices ``[B]`` (-1: anonymous) to vectors
    ``[B, D]`` of what is known about each user besides their events (what they wrote and
    searched for); :meth:`readout` adds them to the states before scoring. Encoders
    without one (the default) read events only.

    With ``score_temperature`` set, states and item vectors meet on the unit sphere:
    :meth:`readout` returns unit states divided by the temperature, and :meth:`item_vectors`
    and :meth:`vectors_of` unit vectors, so every dot product downstream (losses, validation,
    ranking, a serving index) is a cosine over the temperature without knowing it.
    """

    every_position: ClassVar[bool]
    any_length: ClassVar[bool]

    def __init__(self, tower: ItemTower, config: SequenceConfig) -> None:
        super().__init__()
        self.events = EventEmbedding(tower, config.time_buckets, config.embedding_dim)
        self.user_context: nn.Module | None = None
        self.temperature = config.score_temperature

    @property
    def tower(self) -> ItemTower:
        return self.events.tower

    @property
    def reads_users(self) -> bool:
        """Whether states depend on who the user is (then training and scoring pass users)."""
        return self.user_context is not None

    def readout(self, states: Tensor, users: Tensor | None) -> Tensor:
        """States ``[B, L, D]`` or ``[B, D]`` as they are scored: plus each row's user context
        (``users [B]``), then on the unit sphere over the temperature, when one is set."""
        if self.user_context is not None and users is not None:
            context: Tensor = self.user_context(users)  # [B, D]
            states = states + (context.unsqueeze(1) if states.dim() == 3 else context)
        if self.temperature is None:
            return states
        return functional.normalize(states, dim=-1) / self.temperature

    @abstractmethod
    def forward(self, items: Tensor, types: Tensor, gaps: Tensor) -> Tensor:
        """``[B, L]`` x 3 int64 inputs -> states ``[B, L, D]`` or ``[B, D]``."""

    def last_state(
        self, items: Tensor, types: Tensor, gaps: Tensor, users: Tensor | None = None
    ) -> Tensor:
        """``[B, L]`` x 3 -> ``[B, D]``: the state after the most recent event, as
        :meth:`readout` scores it (for ``users [B]``, when given)."""
        states: Tensor = self(items, types, gaps)
        return self.readout(states[:, -1] if self.every_position else states, users)

    def item_vectors(self) -> Tensor:
        """``[I, D]``: what states are scored against (unit rows with a temperature)."""
        return self._scored(self.tower.item_vectors())

    def vectors_of(self, items: Tensor) -> Tensor:
        """``[*, D]``: the scored vectors of item indices ``[*]`` (not shifted)."""
        return self._scored(self.tower.vectors_of(items))

    def _scored(self, vectors: Tensor) -> Tensor:
        if self.temperature is None:
            return vectors
        return functional.normalize(vectors, dim=-1)
