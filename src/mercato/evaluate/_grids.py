"""The small validation grids that ``mercato benchmark --tune`` searches, one per baseline.

They are deliberately small (a handful of fits each) so a full tuned run of every baseline fits
on a 2-core machine; every point and its validation score are recorded in the results file.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_GRIDS", "default_grid"]

DEFAULT_GRIDS: dict[str, dict[str, list[Any]]] = {
    "pop": {},
    "pop-recent": {"window_share": [0.05, 0.1, 0.3]},
    "itemknn": {"k_neighbours": [50, 200], "shrinkage": [0.0, 10.0, 100.0]},
    "userknn": {"k_neighbours": [50, 200], "shrinkage": [0.0, 10.0]},
    "session-knn": {
        "k_neighbours": [100, 300],
        "lambda_position": [1.0, 2.0],
        "lambda_neighbour": [2.0, 4.0],
    },
    "content-knn": {"half_life_days": [0.0, 30.0, 90.0], "repeat_weight": [0.5, 1.0, 2.0, 4.0]},
    "hybrid-ranker": {"n_windows": [4, 24], "window_days": [14.0, 28.0], "n_trees": [50, 200]},
    "ease": {"l2": [100.0, 300.0, 1000.0]},
    "als": {"factors": [64, 128], "regularization": [0.01, 0.1], "alpha": [1.0, 10.0]},
    "bpr": {"factors": [64, 128], "learning_rate": [0.01, 0.05]},
}


def default_grid(model: str) -> dict[str, list[Any]]:
    """The grid for a model name; models without one are run with their defaults."""
    return DEFAULT_GRIDS.get(model, {})
