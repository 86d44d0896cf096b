"""The ``mercato`` command line."""

from mercato.cli._app import app, main

__all__ = ["app", "main"]
