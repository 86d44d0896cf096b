"""Caser: convolutions over the last ``L`` events (Tang & Wang, WSDM 2018).

Shape letters: ``B`` batch rows, ``L`` window (``max_len``), ``D`` embedding width, ``F_h``
horizontal filters per height, ``F_v`` vertical filters.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional

from mercato.models.sequence._config import CaserConfig
from mercato.models.sequence._modules import ItemTower, SequenceEncoder
from mercato.models.sequence._recommender import SequenceRecommender

__all__ = ["Caser", "CaserEncoder"]


class CaserEncoder(SequenceEncoder):
    """The ``L x D`` "image" of the last ``L`` events, read by two kinds of filter.

    Horizontal filters of height ``h = 1 .. L`` span whole embeddings and slide over time, each
    max-pooled: union-level patterns of ``h`` consecutive events, wherever they occur. Vertical
    filters span the ``L`` events per embedding dimension: a learned weighted sum of the recent
    events (the paper's point-level patterns). Both are concatenated and projected to ``D``.

    Differences from the paper: no per-user embedding (so anonymous sessions and fold-in
    histories score like users), and no activation on the projection: the output layer is the
    tied item tower, and a ReLU there would keep every user state non-negative.

    Example:
        >>> encoder = CaserEncoder(ItemTower(10, 8), CaserConfig(embedding_dim=8, max_len=3))
        >>> items = torch.tensor([[0, 3, 5]])
        >>> encoder(items, torch.ones_like(items), torch.zeros_like(items)).shape
        torch.Size([1, 8])

    Stability: experimental.
    """

    every_position = False
    any_length = False

    def __init__(self, tower: ItemTower, config: CaserConfig) -> None:
        super().__init__(tower, config)
        window, dim = config.max_len, config.embedding_dim
        self.horizontal = nn.ModuleList(
            nn.Conv2d(1, config.n_horizontal, kernel_size=(height, dim))
            for height in range(1, window + 1)
        )
        self.vertical = nn.Conv2d(1, config.n_vertical, kernel_size=(window, 1))
        self.dropout = nn.Dropout(config.dropout)
        self.project = nn.Linear(config.n_vertical * dim + config.n_horizontal * window, dim)

    def forward(self, items: Tensor, types: Tensor, gaps: Tensor) -> Tensor:
        """``[B, L]`` x 3 (``L = max_len``) -> the state after the last event ``[B, D]``."""
        image = self.events(items, types, gaps).unsqueeze(1)  # [B, 1, L, D]
        vertical = self.vertical(image).flatten(1)  # [B, F_v, 1, D] -> [B, F_v * D]
        horizontal = [
            functional.relu(conv(image).squeeze(3)).amax(dim=2)  # [B, F_h, L - h + 1] -> [B, F_h]
            for conv in self.horizontal
        ]
        features = torch.cat([vertical, *horizontal], dim=1)  # [B, F_v * D + F_h * L]
        state: Tensor = self.project(self.dropout(features))  # [B, D]
        return state


class Caser(SequenceRecommender[CaserConfig]):
    """Caser (Tang & Wang, 2018): convolutional next-item model over the last ``max_len`` events.

    Trained on every sliding window of each sequence (the ``max_len`` events before an event
    predict that event), with a softmax loss (full or sampled) in place of the paper's binary
    cross-entropy; scores are dot products with the tied item tower. Behaviour types and time
    gaps are added to the inputs.

    Stability: experimental.
    """

    name = "caser"
    config_class = CaserConfig

    def _build_encoder(self, tower: ItemTower) -> SequenceEncoder:
        return CaserEncoder(tower, self.config)
