"""Each package exports a deliberate, sorted surface, and every exported name exists."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = (
    "mercato.data",
    "mercato.data.adapters",
    "mercato.demo",
    "mercato.evaluate",
    "mercato.features",
    "mercato.models",
    "mercato.cli",
)


def _order(name: str) -> tuple[bool, bool, str]:
    # CONSTANTS first, then Classes, then functions: the order ruff keeps __all__ in.
    return (not name.isupper(), name[0].islower(), name)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_and_resolves(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)

    assert exported == sorted(exported, key=_order)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert getattr(module, name) is not None, f"{package}.{name}"
