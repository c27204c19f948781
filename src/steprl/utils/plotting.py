"""Learning-curve figure of the ``steprl`` command (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["moving_average", "plot_learning_curve"]


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` values (the first points average what is available)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return array
    cumulative = np.cumsum(np.insert(array, 0, 0.0))
    ends = np.arange(1, array.size + 1)
    starts = np.maximum(ends - max(int(window), 1), 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def plot_learning_curve(
    path: str,
    title: str,
    eval_steps: Sequence[int],
    eval_means: Sequence[float],
    eval_stds: Sequence[float],
    train_steps: Sequence[int] = (),
    train_returns: Sequence[float] = (),
    window: int = 20,
) -> None:
    """Save a PNG of the evaluation mean ± std and the smoothed training returns versus environment steps.

    Without matplotlib (not in the base install: ``pip install steprl[plot]``) a warning is logged instead.
    """
    try:
        import matplotlib
    except ImportError:
        from steprl import logger

        logger.warning(f"matplotlib is not installed (pip install matplotlib): {path} is not written")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    try:
        if len(train_returns):
            ax.plot(train_steps, train_returns, color="tab:gray", alpha=0.25, linewidth=0.8, label="training episodes")
            smooth = moving_average(train_returns, window)
            ax.plot(train_steps, smooth, color="tab:blue", label=f"training (mean of last {window})")
        if len(eval_means):
            means, stds = np.asarray(eval_means), np.asarray(eval_stds)
            ax.plot(eval_steps, means, "o-", color="tab:orange", label="evaluation (deterministic)")
            ax.fill_between(eval_steps, means - stds, means + stds, color="tab:orange", alpha=0.25)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("episode return")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
