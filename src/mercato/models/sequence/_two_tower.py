"""A two-tower retrieval model: user vectors and item vectors, scored by their dot product.

Shape letters: ``B`` batch rows, ``L`` window length, ``D`` embedding width, ``U`` users,
``H`` histories, ``I`` items.

The item tower is the multimodal one; the user tower pools the vectors of the user's recent
events and adds their text signals. Both are plain ``[*, D]`` matrices once fitted, so the
model serves through any dot-product retrieval (``rank_topk_dot``, a faiss inner-product index)
with nothing of the model in the loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from torch import Tensor, nn
from torch.nn import functional

from mercato.models._inputs import checked_histories, checked_ids
from mercato.models.sequence._config import TwoTowerConfig
from mercato.models.sequence._content_model import ContentRecommender
from mercato.models.sequence._data import N_TYPES, windows_of_histories
from mercato.models.sequence._loop import encode_states
from mercato.models.sequence._modules import ItemTower, SequenceEncoder

__all__ = ["TwoTower", "TwoTowerEncoder"]

#: Keeps the running mean defined before the first event of a left-padded window.
_EPSILON = 1e-6


class TwoTowerEncoder(SequenceEncoder):
    """The user tower: a behaviour-weighted running mean of the event vectors, then a residual
    feed-forward layer; a state at every position.

    Each event's vector is its item's (multimodal) vector plus behaviour and time-gap
    embeddings, as in the other encoders. A learned weight per behaviour lets a purchase pull
    the mean harder than a view. The state after event ``t`` reads events ``<= t`` only, so
    every position trains on the next item, as SASRec's do.

    Example:
        >>> encoder = TwoTowerEncoder(ItemTower(10, 8), TwoTowerConfig(embedding_dim=8))
        >>> items = torch.tensor([[0, 0, 3, 5]])
        >>> encoder(items, torch.ones_like(items), torch.zeros_like(items)).shape
        torch.Size([1, 4, 8])

    Stability: experimental.
    """

    every_position = True
    any_length = True

    def __init__(self, tower: ItemTower, config: TwoTowerConfig) -> None:
        super().__init__(tower, config)
        dim = config.embedding_dim
        self.behaviour_weights = nn.Embedding(N_TYPES, 1)
        nn.init.zeros_(self.behaviour_weights.weight)  # every behaviour weighs the same at first
        self.feed_forward = nn.Sequential(
            nn.LayerNorm(dim),
            nn.Linear(dim, dim),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(dim, dim),
        )

    def forward(self, items: Tensor, types: Tensor, gaps: Tensor) -> Tensor:
        """``[B, L]`` x 3 -> states ``[B, L, D]`` at every position (zeros under padding)."""
        real = (items > 0).unsqueeze(-1)  # [B, L, 1]
        events = self.events(items, types, gaps)  # [B, L, D], zeros under padding
        weights = functional.softplus(self.behaviour_weights(types)) * real  # [B, L, 1]
        taste = (events * weights).cumsum(dim=1) / (weights.cumsum(dim=1) + _EPSILON)  # [B, L, D]
        states: Tensor = (taste + self.feed_forward(taste)) * real  # [B, L, D]
        return states


class TwoTower(ContentRecommender[TwoTowerConfig]):
    """Two-tower retrieval: multimodal item vectors, user vectors pooled from recent events.

    Trained through the shared sequence loop: every position of a user's window predicts the
    next item with a sampled softmax (``loss``, ``negative_sampler`` and ``logq_correction``
    as for the sequence models; a popularity sampler with ``logq_correction=1`` corrects for
    sampling bias as an in-batch softmax would). Scores are ``user_vectors @ item_vectors().T``
    exactly, so top-k lists can come from an approximate nearest-neighbour index instead.

    Example::

        model = get_model("two-tower", text_encoder="tfidf").fit(dataset)
        top = rank_topk_dot(model.user_vectors(users), model.item_vectors(), k=10)

    Stability: experimental.
    """

    name = "two-tower"
    config_class = TwoTowerConfig

    def item_vectors(self) -> NDArray[np.float32]:
        """float32 ``[I, D]``: row ``i`` is the vector of item index ``i``."""
        self._require_fitted()
        return self._item_matrix

    def user_vectors(self, users: ArrayLike) -> NDArray[np.float32]:
        """float32 ``[U, D]`` vectors of fitted users, from their last ``max_len`` events.

        A user without training events gets their text signals alone (zero without any);
        ``score_users`` gives such users the fallback scores instead.
        """
        fitted = self._require_fitted()
        return self._user_states(checked_ids(users, fitted.n_users, "user"))

    def history_vectors(self, histories: Sequence[ArrayLike]) -> NDArray[np.float32]:
        """float32 ``[H, D]`` vectors of item histories (oldest first), as anonymous users."""
        fitted = self._require_fitted()
        ordered = checked_histories(histories, fitted.n_items)
        windows = windows_of_histories(ordered, self._behaviour, self.config.max_len)
        return encode_states(self._encoder, windows)

    def _build_sequence_encoder(self, tower: ItemTower) -> SequenceEncoder:
        return TwoTowerEncoder(tower, self.config)

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        return self._user_states(users) @ self._item_matrix.T  # [U, I]

    def _user_states(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        readers = users if self._encoder.reads_users else None
        return encode_states(self._encoder, self._user_windows.rows(users), readers)  # [U, D]

    def _score_ordered_histories(
        self, history_items: sp.csr_matrix, histories: list[NDArray[np.int64]]
    ) -> NDArray[np.float32]:
        windows = windows_of_histories(histories, self._behaviour, self.config.max_len)
        return encode_states(self._encoder, windows) @ self._item_matrix.T  # [H, I]
