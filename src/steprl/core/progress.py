"""Progress-bar policy shared by every trainer."""

from __future__ import annotations

import sys
import time
from typing import Any

import tqdm


def progress_disabled(setting: bool | None, rank: int = 0) -> bool:
    """``disable_progressbar`` semantics: True/False as given, None = off when stdout is not a TTY; off on rank ≠ 0."""
    if rank != 0:
        return True
    if setting is None:
        return not sys.stdout.isatty()
    return bool(setting)


class ProgressBar:
    """A tqdm bar of ``total`` steps whose postfix shows the recent mean episode return (refreshed ≤ 2×/s)."""

    def __init__(self, total: int, desc: str, disable: bool, initial: int = 0) -> None:
        self.total = total
        self.bar = tqdm.tqdm(
            total=total, desc=desc, disable=disable, file=sys.stdout, initial=initial, dynamic_ncols=True, unit=" env steps"
        )
        self._last_postfix = 0.0
        self.closed = False
        self.n = initial

    def update(self, n: int = 1, mean_return: Any = None) -> None:
        """Advance by ``n``; ``mean_return`` is a zero-argument callable evaluated only when the postfix refreshes."""
        self.n += n
        self.bar.update(n)
        if mean_return is not None and not self.bar.disable:
            now = time.monotonic()
            if now - self._last_postfix > 0.5:
                self._last_postfix = now
                value = mean_return()
                if value == value:  # not NaN
                    self.bar.set_postfix_str(f"return {value:.1f}", refresh=False)

    def close(self) -> None:
        if not self.closed:
            self.bar.close()
            self.closed = True
