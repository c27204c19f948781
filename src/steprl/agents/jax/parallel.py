"""Data parallelism over processes for the JAX agents' jitted updates.

In one process everything here is plain: :func:`compile_update` is ``jax.jit`` and the reductions are identities.
In a distributed run (``python -m steprl.utils.distributed.jax``, one JAX device per process) :func:`compile_update`
runs the same function under ``jax.shard_map`` over a mesh of every process's device: each process passes its own
arrays and gets its own results back, and inside the function :func:`mean_over_processes` (gradients, losses, KL)
and :func:`scaler_update_over_processes` (running standard scaler statistics) are collectives over the processes.
Since every process applies the same averaged gradients to parameters :func:`broadcast_from_rank` made
identical, parameters and optimizer states stay identical without further communication.

An agent uses the module in three places::

    self.policy.broadcast_parameters()                        # construction: rank 0's initial parameters
    self._update_jit = compile_update(self._update_pure)      # instead of jax.jit
    grads, parts = mean_over_processes((grads, parts))        # inside the update, before clipping and stepping
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from steprl import config
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState, batch_moments, scaler_merge

__all__ = [
    "AXIS",
    "broadcast_from_rank",
    "compile_update",
    "mean_over_processes",
    "scaler_update_over_processes",
]

AXIS = "processes"  # the mesh axis the processes' devices lie along

# True while a function compiled by compile_update is traced in a distributed run: the axis is bound
_inside_update: contextvars.ContextVar[bool] = contextvars.ContextVar("steprl_inside_update", default=False)


def _distributed() -> bool:
    return config.jax.is_distributed


def _axis_bound() -> bool:
    """Whether collectives over :data:`AXIS` can run here (inside an update compiled by :func:`compile_update`)."""
    if not _distributed():
        return False
    if not _inside_update.get():
        raise RuntimeError(
            "steprl.agents.jax.parallel: a reduction over processes was called outside an update compiled by "
            "compile_update(); compile the function that calls it with compile_update(fn) instead of jax.jit(fn)"
        )
    return True


def mean_over_processes(tree: Any) -> Any:
    """``tree``'s arrays averaged over the processes (inside a :func:`compile_update` function); ``tree`` itself in one
    process. Call it once per step on everything to average (one collective for the whole tree)."""
    if not _axis_bound():
        return tree
    return jax.lax.pmean(tree, AXIS)


def scaler_update_over_processes(state: ScalerState, x: jax.Array, mask: jax.Array | None = None) -> ScalerState:
    """:func:`~steprl.resources.preprocessors.jax.running_standard_scaler.scaler_update` with the statistics of every
    process's ``x`` (masked rows excluded): the result equals one process's update with all the processes' rows.

    Only the batch moments (count, mean and variance per feature) travel between processes, merged exactly."""
    count, mean, var = batch_moments(x, mask)
    if _axis_bound():
        own_count = jnp.reshape(jnp.asarray(count, dtype=mean.dtype), (1,))
        counts, means, variances = jax.lax.all_gather((own_count, mean, var), AXIS)  # (processes, ...) each
        count = counts.sum(axis=0)
        weights = counts / jnp.maximum(count, 1.0)
        mean = jnp.sum(weights * means, axis=0)
        var = jnp.sum(weights * (variances + (means - mean) ** 2), axis=0)
    return scaler_merge(state, count, mean, var)


def broadcast_from_rank(tree: Any, rank: int = 0) -> Any:
    """Process ``rank``'s ``tree`` on every process (same structure, shapes and dtypes), on this process's device;
    ``tree`` itself in one process. Every process must call it (it is a collective)."""
    if not _distributed():
        return tree
    if not 0 <= rank < config.jax.world_size:
        raise ValueError(f"rank must be in [0, {config.jax.world_size}) (the world size), got {rank}")
    from jax.experimental import multihost_utils

    config.jax.init_distributed()
    received = multihost_utils.broadcast_one_to_all(tree, is_source=config.jax.rank == rank)
    return jax.tree_util.tree_map(lambda value: jax.device_put(np.asarray(value), config.jax.device), received)


def compile_update(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled once: ``jax.jit(fn)`` in one process; in a distributed run a function with the same signature
    and results whose body runs on every process's device at once, so that :func:`mean_over_processes` inside ``fn``
    averages over processes.

    Every positional argument is a pytree of arrays with the same shapes on every process (``None`` leaves allowed);
    keyword arguments are not supported.
    """
    if not _distributed():
        return jax.jit(fn)
    config.jax.init_distributed()
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devices = np.asarray(jax.devices())
    if devices.size != config.jax.world_size:
        raise RuntimeError(
            f"compile_update expects one JAX device per process ({config.jax.world_size} processes), found "
            f"{devices.size} devices: launch one process per accelerator"
        )
    mesh = Mesh(devices, (AXIS,))
    spec = PartitionSpec(AXIS)
    sharding = NamedSharding(mesh, spec)
    local = jax.local_devices()[0]
    compiled: dict[tuple, Callable[..., Any]] = {}
    as_rows = jax.jit(lambda scalars: [x.reshape(1) for x in scalars])
    drop_axis = jax.jit(lambda tree: jax.tree_util.tree_map(lambda x: x[0], tree))

    def mapped(treedef: Any, scalar: tuple[bool, ...]) -> Callable[..., Any]:
        """The shard_map of ``fn`` for arguments of structure ``treedef`` (``scalar``: the 0-d leaves)."""

        def body(*leaves: jax.Array) -> Any:
            own = [x.reshape(()) if flag else x for x, flag in zip(leaves, scalar)]
            token = _inside_update.set(True)
            try:
                out = fn(*jax.tree_util.tree_unflatten(treedef, own))
            finally:
                _inside_update.reset(token)
            return jax.tree_util.tree_map(lambda x: x[None], out)  # results: one row per process

        # check_vma=False: the agents' functions are written for plain jit (e.g. lax.cond branches mixing per-process
        # and averaged values); they never differentiate through a collective, which is what the check guards
        return jax.jit(jax.shard_map(body, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False))

    def call(*args: Any) -> Any:
        # each process's array is its block of a global array along dim 0 (no copy: replay memories can be large)
        leaves, treedef = jax.tree_util.tree_flatten(args)
        leaves = jax.device_put(leaves, local)
        scalar = tuple(x.ndim == 0 for x in leaves)
        if any(scalar):
            rows = iter(as_rows([x for x, flag in zip(leaves, scalar) if flag]))
            leaves = [next(rows) if flag else x for x, flag in zip(leaves, scalar)]
        key = (treedef, scalar)
        if key not in compiled:
            compiled[key] = mapped(treedef, scalar)
        blocks = [
            jax.make_array_from_single_device_arrays((devices.size * x.shape[0], *x.shape[1:]), sharding, [x])
            for x in leaves
        ]
        out = compiled[key](*blocks)
        return drop_axis(jax.tree_util.tree_map(lambda x: x.addressable_data(0), out))

    return call
