"""GRU4Rec: a recurrent network over the recent events (Hidasi et al., ICLR 2016).

Shape letters: ``B`` batch rows, ``L`` window length, ``D`` embedding width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mercato.models.sequence._config import GRU4RecConfig
from mercato.models.sequence._modules import ItemTower, SequenceEncoder
from mercato.models.sequence._recommender import SequenceRecommender

__all__ = ["GRU4Rec", "GRU4RecEncoder"]


class GRU4RecEncoder(SequenceEncoder):
    """Event embeddings through ``n_layers`` GRU layers of width ``D``; a state per position.

    Windows are left-padded, but a GRU fed padding first would carry it in its state. Each row
    is therefore rotated so its events come first, run, and rotated back: the padding then
    trails the events, and a recurrent state never depends on what comes after it.

    Example:
        >>> encoder = GRU4RecEncoder(ItemTower(10, 8), GRU4RecConfig(embedding_dim=8, max_len=4))
        >>> items = torch.tensor([[0, 0, 3, 5]])
        >>> encoder(items, torch.ones_like(items), torch.zeros_like(items)).shape
        torch.Size([1, 4, 8])

    Stability: experimental.
    """

    every_position = True
    any_length = True

    def __init__(self, tower: ItemTower, config: GRU4RecConfig) -> None:
        super().__init__(tower, config)
        dim = config.embedding_dim
        self.input_dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRU(
            dim,
            dim,
            num_layers=config.n_layers,
            batch_first=True,
            dropout=config.dropout if config.n_layers > 1 else 0.0,
        )
        self.output_dropout = nn.Dropout(config.dropout)

    def forward(self, items: Tensor, types: Tensor, gaps: Tensor) -> Tensor:
        """``[B, L]`` x 3 -> states ``[B, L, D]`` at every position (zeros under padding)."""
        real = items > 0  # [B, L]
        padding = (~real).sum(dim=1)  # [B]
        events = self.input_dropout(self.events(items, types, gaps))  # [B, L, D]
        events_first = _rotate(events, padding)  # [B, L, D], padding trails
        states, _ = self.gru(events_first)  # [B, L, D]
        states = _rotate(states, -padding)  # [B, L, D], left-padded again
        out: Tensor = self.output_dropout(states) * real.unsqueeze(-1)
        return out


def _rotate(values: Tensor, shift: Tensor) -> Tensor:
    """``[B, L, D]`` with each row ``b`` rotated left by ``s = shift[b]`` positions:
    ``out[b, t] = values[b, (t + s) mod L]``."""
    width = values.shape[1]
    index = (torch.arange(width, device=values.device)[None, :] + shift[:, None]) % width  # [B, L]
    return values.gather(1, index.unsqueeze(-1).expand_as(values))


class GRU4Rec(SequenceRecommender[GRU4RecConfig]):
    """GRU4Rec (Hidasi et al., 2016): a GRU over the recent events, next-item trained.

    Trained, like SASRec, on the next item at every position of each sequence with a softmax
    loss (full or sampled; the 2016 paper's session-parallel mini-batches and TOP1/BPR losses
    are not offered); a user is scored by the state after their most recent event. Behaviour
    types and time gaps are added to the inputs.

    Stability: experimental.
    """

    name = "gru4rec"
    config_class = GRU4RecConfig

    def _build_encoder(self, tower: ItemTower) -> SequenceEncoder:
        return GRU4RecEncoder(tower, self.config)
