"""Progress display for multi-phase work, silent unless asked for."""

from __future__ import annotations

import logging
import time
from types import TracebackType

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

__all__ = ["Phases"]

logger = logging.getLogger(__name__)


class Phases:
    """A progress bar that advances one named phase at a time; does nothing when disabled."""

    def __init__(self, enabled: bool, total: int) -> None:
        self._progress = (
            Progress(
                TextColumn("{task.description:<24}"),
                BarColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            if enabled
            else None
        )
        self._total = total
        self._task: TaskID | None = None
        self._started = False
        self._phase: tuple[str, float] | None = None

    def __enter__(self) -> Phases:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("starting", total=self._total)
        return self

    def step(self, description: str) -> None:
        """Mark the previous phase done and show the next one."""
        self._log_done()
        self._phase = (description, time.perf_counter())
        if self._progress is None or self._task is None:
            return
        if self._started:
            self._progress.advance(self._task)
        self._started = True
        self._progress.update(self._task, description=description)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            self._log_done()
        if self._progress is not None:
            self._progress.stop()

    def _log_done(self) -> None:
        if self._phase is not None:
            description, started = self._phase
            logger.info("%s took %.1fs", description, time.perf_counter() - started)
