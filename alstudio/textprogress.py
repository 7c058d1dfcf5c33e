"""A one-line progress bar for the terminal, with a rate and an ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Call with (done, total); redraws at most ten times a second, only on a terminal."""

    def __init__(self, label: str, unit: str = "items", stream: TextIO | None = None, width: int = 30):
        self.label, self.unit, self.width = label, unit, width
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.started = time.perf_counter()
        self._last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self._due(now, done >= total):
            return
        elapsed = now - self.started
        fraction = done / total if total else 1.0
        eta = f"{elapsed * (1 - fraction) / fraction:4.0f} s left" if 0 < fraction < 1 else " " * 11
        self._draw(fraction, f"{done}/{total} {self.unit} {eta}")

    def show(self, fraction: float, eta: str) -> None:
        """Draws an estimate made elsewhere (engine.progress: the workbench's fraction and ETA), not its own."""
        if self._due(time.perf_counter(), fraction >= 1.0):
            # Erases what a longer label or ETA left at the end of the line.
            self._draw(fraction, f"{100 * fraction:3.0f}% {eta}\033[K")

    def _due(self, now: float, last: bool) -> bool:
        if not self.interactive or (not last and now - self._last_draw < 0.1):
            return False
        self._last_draw = now
        return True

    def _draw(self, fraction: float, tail: str) -> None:
        filled = int(self.width * fraction)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {tail}")
        self.stream.flush()

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\r\033[K")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class StatusLines:
    """Several lines kept up to date (a sweep's one line per cell). On a terminal they are redrawn in
    place, at most ten times a second; elsewhere (a log file) a line is printed only when its `key`
    changes, so a log gets each cell's counts as they move and not every ETA tick."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._drawn = 0
        self._keys: list[str] = []
        self._last_draw = 0.0

    def show(self, lines: list[str], keys: list[str] | None = None, force: bool = False) -> None:
        keys = keys if keys is not None else lines
        if not self.interactive:
            for i, (line, key) in enumerate(zip(lines, keys)):
                if i >= len(self._keys) or self._keys[i] != key:
                    self.stream.write(line + "\n")
            self._keys = list(keys)
            self.stream.flush()
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        up = f"\033[{self._drawn}F" if self._drawn else ""
        self.stream.write(up + "".join(f"{line}\033[K\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    def close(self) -> None:
        """Leaves the last lines drawn where they are; later output goes below them."""
        self._drawn = 0
