"""The ``mercato`` command line."""

from mercato.cli import (
    _evaluate,  # noqa: F401  (registers the evaluation commands)
    _models,  # noqa: F401  (registers train, recommend and features)
)
from mercato.cli._app import app, main

__all__ = ["app", "main"]
