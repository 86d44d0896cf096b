"""EASE: a shallow linear item-to-item autoencoder with a closed-form solution."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.errors import ConfigError
from mercato.models._base import Recommender
from mercato.models._config import ModelConfig, check_float, check_int
from mercato.models._training import TrainingData

__all__ = ["EASE", "EASEConfig"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class EASEConfig(ModelConfig):
    """Settings of :class:`EASE`.

    Attributes:
        l2: the L2 penalty lambda on the item weights (``> 0``); larger for denser data.
        max_items: refuse catalogues larger than this (``>= 1``): the fit holds two dense
            float32 ``[I, I]`` matrices, about ``8 I^2`` bytes (30,000 items: 7.2 GB).

    Stability: stable.
    """

    l2: float = 500.0
    max_items: int = 30_000

    def _check(self) -> None:
        check_float(self, "l2", low=0.0, low_inclusive=False)
        check_int(self, "max_items", low=1)


class EASE(Recommender[EASEConfig]):
    """EASE (Steck, 2019): ``B = I - P / diag(P)`` with ``P = (X^T X + l2 I)^-1``.

    ``X`` is the weighted training matrix (users and anonymous sessions); ``B [I, I]`` is dense
    float32 with a zero diagonal, and a history scores ``history @ B``. Fine for ~12k items; the
    fit refuses catalogues above ``max_items``.

    Stability: stable.
    """

    name = "ease"
    config_class = EASEConfig

    _weights: NDArray[np.float32]  # [I, I] item-to-item weights B

    def _fit(self, training: TrainingData) -> None:
        n_items = training.n_items
        if n_items > self.config.max_items:
            raise ConfigError(
                f"EASE needs two dense {n_items} x {n_items} matrices "
                f"(~{8 * n_items**2 / 2**30:.1f} GB) and max_items is {self.config.max_items}; "
                f"use itemknn for a catalogue this large, or raise max_items if memory allows."
            )

        logger.debug("EASE: inverting a %d x %d Gram matrix", n_items, n_items)
        rows = training.rows
        gram = np.asarray((rows.T @ rows).toarray(), dtype=np.float32)  # [I, I] = X^T X
        gram[np.diag_indices(n_items)] += np.float32(self.config.l2)

        # The regularised Gram matrix is symmetric positive definite; invert it in place.
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)  # P [I, I]
        del gram

        # B_ij = -P_ij / P_jj off the diagonal, computed in place: no third I x I matrix.
        diagonal = np.diag(precision).copy()
        precision /= -diagonal[None, :]
        precision[np.diag_indices(n_items)] = 0.0
        self._weights = precision.astype(np.float32, copy=False)

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        return np.asarray(history_items @ self._weights, dtype=np.float32)

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"weights": self._weights}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._weights = state["weights"]
