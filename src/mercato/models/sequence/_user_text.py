"""What users wrote and searched for, as a vector added to their state before scoring.

Shape letters: ``B`` rows, ``U`` users, ``W`` a signal's width, ``D`` the state width.

A user's state from their events says what they did; their reviews and recent searches say
what they look for in words. Each signal is a frozen text vector per user (mean of their
review texts, of their latest queries) through a learned projection into the state's space;
the projections of the signals a user has are summed. Anonymous rows and users without a
signal get nothing added.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mercato.models.sequence._config import USER_SIGNALS
from mercato.models.sequence._content import UserContent, Vectors
from mercato.models.sequence._multimodal import ProjectedVectors

__all__ = ["UserText", "user_content_of"]


class UserText(nn.Module):
    """Users ``[B]`` (-1: anonymous) -> ``[B, D]``: their text signals, projected and summed.

    Example:
        >>> import numpy as np
        >>> content = UserContent({"queries": Vectors(np.eye(2, 4, dtype=np.float32),
        ...     np.array([True, False]))})
        >>> UserText(content, dim=8)(torch.tensor([0, 1, -1])).shape
        torch.Size([3, 8])

    Stability: experimental.
    """

    def __init__(self, content: UserContent, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.signals = nn.ModuleDict(
            {
                name: ProjectedVectors(content.signals[name], dim)
                for name in USER_SIGNALS
                if name in content.signals
            }
        )

    def forward(self, users: Tensor) -> Tensor:
        """``[B]`` user indices, -1 for anonymous rows -> ``[B, D]``."""
        known = users >= 0  # [B]
        rows = users.clamp_min(0)  # [B]; anonymous rows read user 0, then count nothing
        total = torch.zeros(len(users), self.dim)
        for signal in self.signals.values():
            vectors, present = signal(rows)  # [B, D], [B]
            total = total + vectors * (present & known).unsqueeze(-1)
        return total


def user_content_of(context_state: Mapping[str, Tensor]) -> UserContent:
    """The signals a saved :class:`UserText` holds, read from its ``state_dict``."""
    return UserContent(
        {
            name: Vectors(
                context_state[f"signals.{name}.values"].numpy(),
                context_state[f"signals.{name}.present"].numpy(),
            )
            for name in USER_SIGNALS
            if f"signals.{name}.values" in context_state
        }
    )
