"""Per-sub-environment episode return/length tracking, vectorized and free of host syncs per step."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from steprl.backends import ArrayOps, ops_for
from steprl.backends.numpy_ops import NUMPY_OPS


class EpisodeTracker:
    """Accumulates returns and lengths of every sub-environment; finished episodes become plain numbers.

    ``update`` only does a few tensor operations (no ``.item()``/``.cpu()``): the running sums before the
    reset mask are kept on the device and moved to the host in one batch when ``harvest`` is called
    (or every ``sync_every`` steps, to bound memory). The last ``history`` episodes are kept (``None``: all of
    them); ``total_episodes`` and ``total_return`` aggregate every episode ever finished.
    """

    def __init__(self, history: int | None = 100, sync_every: int = 512) -> None:
        if history is not None and history < 1:
            raise ValueError(f"history must be >= 1 or None, got {history}")
        self.history = history
        self.sync_every = sync_every
        self.returns: deque[float] = deque(maxlen=history)
        self.lengths: deque[int] = deque(maxlen=history)
        self.env_ids: deque[int] = deque(maxlen=history)
        self.end_steps: deque[int] = deque(maxlen=history)
        self.total_episodes = 0
        self.total_return = 0.0
        self.steps = 0  # update() calls so far (vector steps)
        self._ret: Any = None
        self._len: Any = None
        self._pending: list[tuple[Any, Any, Any]] = []
        self._ops: ArrayOps | None = None
        self._host_view: Any = None

    def reset(self) -> None:
        """Forget the episodes in progress (completed ones are kept)."""
        self.harvest()
        self._ret = None
        self._len = None
        self._pending.clear()

    def update(self, rewards: Any, terminated: Any, truncated: Any) -> None:
        """Add one step of ``(N, 1)`` rewards and done flags."""
        if self._ret is None:
            ops = ops_for(rewards)
            # host-memory tensors are tracked through zero-copy NumPy views (cheaper per step than tensor ops)
            self._host_view = ops.host_view if ops.host_view(rewards) is not None else None
            self._ops = NUMPY_OPS if self._host_view is not None else ops
            n = rewards.shape[0]
            self._ret = self._ops.zeros(n, "float32", rewards)
            self._len = self._ops.zeros(n, "int64", rewards)
        host_view = self._host_view
        if host_view is not None:
            rewards, terminated, truncated = host_view(rewards), host_view(terminated), host_view(truncated)
        ret = self._ret + rewards.reshape(-1)
        length = self._len + 1
        done = (terminated | truncated).reshape(-1)
        self._pending.append((ret, length, done))
        self.steps += 1
        keep = ~done
        self._ret = ret * keep
        self._len = length * keep
        if len(self._pending) >= self.sync_every:
            self.harvest()

    def harvest(self) -> int:
        """Move finished episodes to the host (one sync); returns how many ended since the last harvest."""
        return len(self._harvest(collect=False))

    def harvest_episodes(self) -> list[tuple[float, int, int]]:
        """Like :meth:`harvest`, returning the new episodes as ``(return, length, env_id)`` triples."""
        return self._harvest(collect=True)

    def _harvest(self, collect: bool) -> Any:
        if not self._pending or self._ops is None:
            return []
        ops = self._ops
        rets = ops.to_numpy(ops.stack([p[0] for p in self._pending]))
        lens = ops.to_numpy(ops.stack([p[1] for p in self._pending]))
        dones = ops.to_numpy(ops.stack([p[2] for p in self._pending])).astype(bool)
        first_step = self.steps - len(self._pending)
        self._pending.clear()
        rows, envs = np.nonzero(dones)
        returns, lengths = rets[dones].astype(np.float64), lens[dones]
        self.total_episodes += len(returns)
        self.total_return += float(returns.sum())
        keep = slice(None) if self.history is None else slice(-self.history, None)  # older ones would drop out
        self.returns.extend(returns[keep].tolist())
        self.lengths.extend(lengths[keep].tolist())
        self.env_ids.extend(envs[keep].tolist())
        self.end_steps.extend((rows[keep] + first_step + 1).tolist())
        if collect:
            return list(zip(returns.tolist(), lengths.tolist(), envs.tolist()))
        return returns

    def clear(self) -> None:
        """Forget everything: completed episodes and episodes in progress."""
        self.reset()
        self.returns.clear()
        self.lengths.clear()
        self.env_ids.clear()
        self.end_steps.clear()
        self.total_episodes = 0
        self.total_return = 0.0
        self.steps = 0

    def mean_return(self, last: int = 100) -> float:
        """Mean return of the ``last`` finished episodes (NaN when none)."""
        self.harvest()
        if not self.returns:
            return float("nan")
        returns = list(self.returns)[-last:]
        return float(np.mean(returns))
