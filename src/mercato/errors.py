"""Domain errors of mercato, documented as one tree.

::

    MercatoError                 every error mercato raises on purpose
    ├── DataError                input data is wrong: names file, row, column, found, expected, fix
    │   └── SchemaError          a required column or table is missing or mistyped
    ├── ConfigError              a setting or a config file is invalid
    ├── StoreError               a store file is missing, locked or not a mercato store
    └── NotFittedError           a model was used before ``fit`` or ``load``

Every message is a sentence that says what was found, what was expected and how to fix it, so the
CLI can print it as a one-line reason without a traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "DataError",
    "MercatoError",
    "NotFittedError",
    "SchemaError",
    "StoreError",
]


class MercatoError(Exception):
    """Base class of every error mercato raises on purpose."""


class DataError(MercatoError):
    """Input data is wrong.

    The message names where (file, data row counted from 1, file line, column), what was found,
    what was expected and how to fix it; the parts are also kept as attributes so callers and
    tests can inspect them.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
        found: object = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.row = row
        self.line = line
        self.column = column
        self.found = found
        self.expected = expected
        self.fix = fix
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(
                f"row {self.row}"
                + (f" (line {self.line})" if self.line not in (None, self.row) else "")
            )
        if self.column is not None:
            where.append(f"column '{self.column}'")
        parts = [f"{', '.join(where)}: {self.problem}" if where else self.problem]
        if self.found is not None:
            parts.append(f"found {self.found!r}")
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        message = "; ".join(parts) + "."
        if self.fix is not None:
            message += f" Fix: {self.fix}"
        return message


class SchemaError(DataError):
    """A required column or table is missing, or a column has the wrong type."""


class ConfigError(MercatoError):
    """A setting or config file is invalid; the message names the setting and the valid values."""


class StoreError(MercatoError):
    """A store file is missing, unreadable, locked, or not a mercato store."""


class NotFittedError(MercatoError):
    """A model was asked to score or recommend before ``fit`` or ``load``."""
