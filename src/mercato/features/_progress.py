"""Progress of feature building (one bar per modality) and the per-item problem log."""

from __future__ import annotations

import logging
from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["MediaProblems", "ProgressBars"]

logger = logging.getLogger(__name__)

# Name this many problem items one by one per modality; the rest are counted in one line, so a
# catalogue with thousands of missing files does not bury the log.
_NAMED_PROBLEMS = 10


class ProgressBars:
    """A rich progress display with one bar per modality; does nothing when disabled."""

    def __init__(self, enabled: bool) -> None:
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("{task.description:<18}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )

    def __enter__(self) -> ProgressBars:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def bar(self, description: str, total: int) -> Bar:
        """A new bar counting ``total`` units (texts, pictures, clips)."""
        if self._progress is None:
            return Bar(None, None)
        return Bar(self._progress, self._progress.add_task(description, total=total))


class Bar:
    """One bar of a :class:`ProgressBars`; ``advance`` is a no-op on a disabled display."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, units: int) -> None:
        if self._progress is not None and self._task is not None and units:
            self._progress.advance(self._task, units)


class MediaProblems:
    """Logs items whose modality could not be read: the first few by name, then a count."""

    def __init__(self, modality: str) -> None:
        self._modality = modality
        self.count = 0

    def report(self, item_id: str, source: str, reason: str) -> None:
        """One item lost this modality; it gets a zero row and mask False."""
        self.count += 1
        level = logging.WARNING if self.count <= _NAMED_PROBLEMS else logging.DEBUG
        logger.log(
            level,
            "item %s: %s %s skipped, treated as missing: %s",
            item_id,
            self._modality,
            source,
            reason,
        )

    def close(self) -> None:
        """The closing count, when more problems occurred than were named."""
        if self.count > _NAMED_PROBLEMS:
            logger.warning(
                "%d items in all had an unusable %s (the first %d are named above; the rest at "
                "DEBUG level)",
                self.count,
                self._modality,
                _NAMED_PROBLEMS,
            )
