"""SASRec: causal self-attention over the recent events (Kang & McAuley, ICDM 2018).

Shape letters: ``B`` batch rows, ``L`` window length, ``D`` embedding width, ``H`` heads.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional

from mercato.models.sequence._config import SASRecConfig
from mercato.models.sequence._modules import EMBEDDING_INIT_STD, ItemTower, SequenceEncoder
from mercato.models.sequence._recommender import SequenceRecommender

__all__ = ["SASRec", "SASRecEncoder"]


class SASRecEncoder(SequenceEncoder):
    """Event embeddings plus learned positions, then ``n_blocks`` causal attention blocks.

    Positions count back from the most recent event (windows are left-padded), as in the
    paper's code, so the last state always sits at position ``max_len - 1`` and a window
    trimmed to its real width keeps the same positions. Blocks are pre-norm with a final
    LayerNorm; padding never serves as a key, and is zeroed after each block (the paper's
    "timeline" mask).

    Example:
        >>> encoder = SASRecEncoder(ItemTower(10, 8), SASRecConfig(embedding_dim=8, max_len=4))
        >>> items = torch.tensor([[0, 0, 3, 5]])
        >>> encoder(items, torch.ones_like(items), torch.zeros_like(items)).shape
        torch.Size([1, 4, 8])

    Stability: experimental.
    """

    every_position = True
    any_length = True

    def __init__(self, tower: ItemTower, config: SASRecConfig) -> None:
        super().__init__(tower, config)
        dim = config.embedding_dim
        self.max_len = config.max_len
        self.scale = math.sqrt(dim)
        self.positions = nn.Embedding(config.max_len, dim)
        nn.init.normal_(self.positions.weight, std=EMBEDDING_INIT_STD)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            AttentionBlock(dim, config.n_heads, config.dropout) for _ in range(config.n_blocks)
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, items: Tensor, types: Tensor, gaps: Tensor) -> Tensor:
        """``[B, L]`` x 3 (``L <= max_len``) -> states ``[B, L, D]`` at every position."""
        real = items > 0  # [B, L]
        hidden = self._inputs(items, types, gaps)  # [B, L, D]
        allowed = _causal_mask(real)  # [B, 1, L, L]
        for block in self.blocks:
            hidden = block(hidden, allowed) * real.unsqueeze(-1)  # [B, L, D]
        states: Tensor = self.norm(hidden)  # [B, L, D]
        return states

    def _inputs(self, items: Tensor, types: Tensor, gaps: Tensor) -> Tensor:
        width = items.shape[1]
        # Scaled by sqrt(D) before positions are added, as in the paper's code (and Vaswani
        # et al.), so the learned positions do not drown the item signal at initialisation.
        events = self.events(items, types, gaps) * self.scale  # [B, L, D]
        where = torch.arange(self.max_len - width, self.max_len, device=items.device)  # [L]
        positions = self.positions(where) * (items > 0).unsqueeze(-1)  # [B, L, D]
        dropped: Tensor = self.dropout(events + positions)
        return dropped


class AttentionBlock(nn.Module):
    """Pre-norm block: ``x + attention(norm(x))``, then ``x + feed_forward(norm(x))``.

    The feed-forward keeps width ``D`` with a ReLU between, as in the paper.
    """

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.attention_norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.attention_out = nn.Linear(dim, dim)
        self.attention_dropout = nn.Dropout(dropout)
        self.feed_forward_norm = nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(
            nn.Linear(dim, dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(dim, dim),
            nn.Dropout(dropout),
        )

    def forward(self, hidden: Tensor, allowed: Tensor) -> Tensor:
        """``[B, L, D]`` and a boolean mask ``[B, 1, L, L]`` -> ``[B, L, D]``."""
        hidden = hidden + self._attend(self.attention_norm(hidden), allowed)
        out: Tensor = hidden + self.feed_forward(self.feed_forward_norm(hidden))
        return out

    def _attend(self, hidden: Tensor, allowed: Tensor) -> Tensor:
        batch, width, dim = hidden.shape
        qkv = self.qkv(hidden).view(batch, width, 3, self.n_heads, dim // self.n_heads)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x [B, H, L, D/H]
        attended = functional.scaled_dot_product_attention(
            query,
            key,
            value,
            attn_mask=allowed,
            dropout_p=self.dropout if self.training else 0.0,
        )  # [B, H, L, D/H]
        merged = attended.transpose(1, 2).reshape(batch, width, dim)  # [B, L, D]
        out: Tensor = self.attention_dropout(self.attention_out(merged))
        return out


def _causal_mask(real: Tensor) -> Tensor:
    """``[B, L]`` real positions -> ``[B, 1, L, L]``: who each query position may attend to.

    Earlier-or-same real positions only. Each position may also see itself, so that padding
    rows are never fully masked (their outputs are zeroed anyway).
    """
    width = real.shape[1]
    causal = torch.ones(width, width, dtype=torch.bool, device=real.device).tril()  # [L, L]
    diagonal = torch.eye(width, dtype=torch.bool, device=real.device)  # [L, L]
    allowed = (causal & real[:, None, :]) | diagonal  # [B, L, L]
    return allowed.unsqueeze(1)  # [B, 1, L, L]


class SASRec(SequenceRecommender[SASRecConfig]):
    """SASRec (Kang & McAuley, 2018): a Transformer over the recent events, next-item trained.

    Each training sequence predicts its next item at every position; a user is scored by the
    state after their most recent event, against the item tower's vectors. Behaviour types
    and time gaps are added to the inputs (not in the paper). Train with the default sampled
    softmax (``loss="sampled"``) or ``loss="softmax"``; the paper's binary cross-entropy with
    one negative is not offered, since softmax losses do markedly better on the same data.

    Stability: experimental.
    """

    name = "sasrec"
    config_class = SASRecConfig

    def _build_encoder(self, tower: ItemTower) -> SequenceEncoder:
        return SASRecEncoder(tower, self.config)
