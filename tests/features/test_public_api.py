"""The public surface of mercato.features: a sorted ``__all__`` naming exactly what it exports."""

from __future__ import annotations

import mercato.features


def test_public_surface_is_sorted_and_complete() -> None:
    exported = mercato.features.__all__
    # The project's (and ruff's) order: CONSTANTS, then Classes, then functions.
    assert exported == sorted(
        exported, key=lambda name: (not name.isupper(), name[0].islower(), name)
    )
    public = {name for name in vars(mercato.features) if not name.startswith("_")}
    assert set(exported) == public
