"""Matrix factorisation through the ``implicit`` library: ALS and BPR, CPU solvers only.

The solvers are implicit's (``implicit.cpu.als``, ``implicit.cpu.bpr``); this module only maps
mercato's contract onto them. implicit runs its own thread pool, and a multi-threaded BLAS under
it slows fits several-fold, so the BLAS pool is held at one thread while implicit works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from mercato.models._base import Recommender
from mercato.models._config import ModelConfig, check_float, check_int
from mercato.models._training import TrainingData

__all__ = ["ALS", "BPR", "ALSConfig", "BPRConfig"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ALSConfig(ModelConfig):
    """Settings of :class:`ALS`.

    Attributes:
        factors: latent dimensions (``>= 1``).
        regularization: L2 penalty on the factors (``>= 0``).
        alpha: scales the confidence of observed interactions; the confidence of an
            interaction is ``alpha * weight`` (``> 0``).
        iterations: alternating sweeps (``>= 1``).
        num_threads: implicit's worker threads; 0 uses every core. Results do not depend on it.

    Stability: stable.
    """

    factors: int = 64
    regularization: float = 0.01
    alpha: float = 1.0
    iterations: int = 15
    num_threads: int = 0

    def _check(self) -> None:
        check_int(self, "factors", low=1)
        check_float(self, "regularization", low=0.0)
        check_float(self, "alpha", low=0.0, low_inclusive=False)
        check_int(self, "iterations", low=1)
        check_int(self, "num_threads", low=0)


@dataclass(frozen=True, kw_only=True)
class BPRConfig(ModelConfig):
    """Settings of :class:`BPR`.

    Attributes:
        factors: latent dimensions (``>= 1``); implicit adds one for the item bias.
        learning_rate: SGD step size (``> 0``).
        regularization: L2 penalty on the factors (``>= 0``).
        iterations: epochs over the interactions (``>= 1``).
        num_threads: implicit's SGD threads (``>= 0``, 0 = every core). Threads update the
            factors without locks, so only ``num_threads=1`` (the default) is deterministic.

    Stability: stable.
    """

    factors: int = 64
    learning_rate: float = 0.01
    regularization: float = 0.01
    iterations: int = 100
    num_threads: int = 1

    def _check(self) -> None:
        check_int(self, "factors", low=1)
        check_float(self, "learning_rate", low=0.0, low_inclusive=False)
        check_float(self, "regularization", low=0.0)
        check_int(self, "iterations", low=1)
        check_int(self, "num_threads", low=0)


class ALS(Recommender[ALSConfig]):
    """Implicit-feedback ALS (Hu, Koren & Volinsky, 2008) via ``implicit``.

    Training users score ``user_factors @ item_factors.T``. A history is folded in by solving
    the user's least-squares problem exactly against the fixed item factors (implicit's
    ``recalculate_user``), the same step a fit takes for every user.

    Stability: stable.
    """

    name = "als"
    config_class = ALSConfig

    _user_factors: NDArray[np.float32]  # [n_users, F]
    _item_factors: NDArray[np.float32]  # [I, F]
    _solver: AlternatingLeastSquares | None = None

    def _fit(self, training: TrainingData) -> None:
        with threadpool_limits(1, "blas"):
            solver = self._new_solver()
            solver.fit(training.rows, show_progress=False, callback=_epoch_logger("als"))

        # Anonymous-session rows only served to learn the item factors.
        self._user_factors = np.ascontiguousarray(solver.user_factors[: training.n_users])
        self._item_factors = np.ascontiguousarray(solver.item_factors)
        solver.user_factors = self._user_factors
        self._solver = solver

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        return self._user_factors[users] @ self._item_factors.T  # [U, F] @ [F, I] -> [U, I]

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        n_histories = history_items.shape[0]
        user_factors = self._fold_in_solver().recalculate_user(
            np.arange(n_histories), history_items
        )  # [H, F]
        return np.asarray(user_factors @ self._item_factors.T, dtype=np.float32)

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"user_factors": self._user_factors, "item_factors": self._item_factors}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._user_factors = state["user_factors"]
        self._item_factors = state["item_factors"]
        self._solver = None

    def _new_solver(self) -> AlternatingLeastSquares:
        config = self.config
        with threadpool_limits(1, "blas"):  # implicit checks the BLAS pool when built
            return AlternatingLeastSquares(
                factors=config.factors,
                regularization=config.regularization,
                alpha=config.alpha,
                iterations=config.iterations,
                num_threads=config.num_threads,
                random_state=config.seed,
            )

    def _fold_in_solver(self) -> AlternatingLeastSquares:
        # A loaded model has factors but no solver: rebuild one around the saved factors.
        if self._solver is None:
            solver = self._new_solver()
            solver.user_factors = self._user_factors
            solver.item_factors = self._item_factors
            self._solver = solver
        return self._solver


class BPR(Recommender[BPRConfig]):
    """Bayesian Personalized Ranking (Rendle et al., 2009) via ``implicit``.

    BPR learns from which items a user interacted with, not how much: event weights only
    decide which event types count (a weight of 0 leaves a type out). A history is folded in
    as the mean factor vector of its items (repeats count again), with the bias coefficient 1:
    a cheap approximation, not a re-fit.

    Stability: stable.
    """

    name = "bpr"
    config_class = BPRConfig

    _user_factors: NDArray[np.float32]  # [n_users, F + 1]; the last column is 1 (bias)
    _item_factors: NDArray[np.float32]  # [I, F + 1]; the last column is the item bias

    def _fit(self, training: TrainingData) -> None:
        config = self.config
        with threadpool_limits(1, "blas"):
            solver = BayesianPersonalizedRanking(
                factors=config.factors,
                learning_rate=config.learning_rate,
                regularization=config.regularization,
                iterations=config.iterations,
                num_threads=config.num_threads,
                random_state=config.seed,
            )
            solver.fit(training.rows, show_progress=False, callback=_epoch_logger("bpr"))
        self._user_factors = np.ascontiguousarray(solver.user_factors[: training.n_users])
        self._item_factors = np.ascontiguousarray(solver.item_factors)

    def _score_users(self, users: NDArray[np.int64]) -> NDArray[np.float32]:
        return self._user_factors[users] @ self._item_factors.T  # [U, F+1] @ [F+1, I]

    def _score_histories(self, history_items: sp.csr_matrix) -> NDArray[np.float32]:
        counts = np.asarray(history_items.sum(axis=1), dtype=np.float32)  # [H, 1]
        shares = sp.csr_matrix(history_items.multiply(1.0 / counts))  # rows sum to 1
        user_factors = np.asarray(shares @ self._item_factors, dtype=np.float32)  # [H, F+1]
        user_factors[:, -1] = 1.0
        return user_factors @ self._item_factors.T

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"user_factors": self._user_factors, "item_factors": self._item_factors}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self._user_factors = state["user_factors"]
        self._item_factors = state["item_factors"]


def _epoch_logger(name: str) -> Any:
    # ALS reports (epoch, seconds, loss), BPR (epoch, seconds, correct, skipped).
    def log_epoch(iteration: int, elapsed: float, *progress: Any) -> None:
        logger.debug("%s epoch %d took %.3f s %s", name, iteration + 1, elapsed, progress)

    return log_epoch
