"""The torchrun process group and the collectives steprl's torch agents use.

``start``/``stop`` create and destroy the default process group (gloo on CPU, NCCL on CUDA with ``LOCAL_RANK``
picking the device) with a timeout, so that a rank waiting for a peer that failed or stopped raises instead of
hanging. The collectives: gradients averaged in one all-reduce of a flat buffer per optimizer step, a tensor
averaged over ranks (the KL of the adaptive schedules), batch moments merged over ranks (the running standard
scalers), and a Python object broadcast from rank 0 (the command's run directory).
"""

from __future__ import annotations

import atexit
import datetime
import os
from collections.abc import Iterable
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "TIMEOUT_VARIABLE",
    "average_gradients",
    "broadcast_object",
    "collective_timeout",
    "mean_over_ranks",
    "merge_moments",
    "ready",
    "start",
    "stop",
]

TIMEOUT_VARIABLE = "STEPRL_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 600.0  # seconds a collective waits for the other ranks before raising


def collective_timeout() -> datetime.timedelta:
    """How long a collective waits for the other ranks: ``STEPRL_DIST_TIMEOUT`` seconds (default 600)."""
    raw = os.getenv(TIMEOUT_VARIABLE)
    if raw is None or not raw.strip():
        return datetime.timedelta(seconds=DEFAULT_TIMEOUT_S)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"{TIMEOUT_VARIABLE} must be a number of seconds > 0 (e.g. 600), got {raw!r}")
    return datetime.timedelta(seconds=seconds)


def ready() -> bool:
    """Whether a process group of more than one rank is running in this process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def start(rank: int, world_size: int, local_rank: int) -> str:
    """Join the default process group (once; returns its backend): when CUDA is available, NCCL for tensors on
    ``cuda:<local_rank>`` (the rank's device) and gloo for CPU tensors (a model kept on the CPU still trains); gloo
    alone otherwise. The rendezvous address comes from torchrun's ``MASTER_ADDR``/``MASTER_PORT``.

    On CPU each rank uses one torch thread unless ``OMP_NUM_THREADS`` says otherwise: K ranks with a thread per
    core each would oversubscribe the cores and slow every rank down.
    """
    if dist.is_initialized():
        return str(dist.get_backend())
    cuda = torch.cuda.is_available()
    if cuda:
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise RuntimeError(
                f"LOCAL_RANK {local_rank} has no GPU: this node has {count}; start at most {count} processes per node "
                f"(torchrun --nproc_per_node {count})"
            )
        torch.cuda.set_device(local_rank)
    elif "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)
    backend = "cpu:gloo,cuda:nccl" if cuda else "gloo"
    dist.init_process_group(backend, rank=rank, world_size=world_size, timeout=collective_timeout())
    atexit.register(stop)
    return backend


def stop() -> None:
    """Leave the default process group (no-op when there is none)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def average_gradients(parameters: Iterable[torch.Tensor], extra: torch.Tensor | None = None) -> torch.Tensor | None:
    """Replace the gradients of ``parameters`` by their mean over ranks, with one all-reduce of a flat buffer;
    ``extra`` (a small tensor, e.g. the minibatch's KL) rides in the same buffer and its mean is returned, so a value
    every rank needs averaged costs no collective of its own.

    Every rank must pass the same parameters, with gradients on the same ones (they run the same model code).
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads and extra is None:
        return None
    parts = [g.reshape(-1) for g in grads]
    dtype = grads[0].dtype if grads else torch.float32
    if extra is not None:
        parts.append(extra.detach().reshape(-1).to(dtype))
    flat = torch.cat(parts)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat.div_(dist.get_world_size())
    pieces = flat.split([part.numel() for part in parts])
    if grads:
        torch._foreach_copy_(grads, [piece.view_as(g) for piece, g in zip(pieces, grads)])
    return None if extra is None else pieces[-1].view_as(extra).to(extra.dtype)


def mean_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of ``tensor`` over ranks (a new tensor; ``tensor`` itself when not distributed)."""
    if not ready():
        return tensor
    total = tensor.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total / dist.get_world_size()


def merge_moments(count: int, mean: torch.Tensor, variance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Population ``(count, mean, variance)`` of the union of every rank's batch, given this rank's batch moments.

    One all-gather; every rank merges the gathered moments in rank order, so all get bitwise the same result.
    A rank may contribute an empty batch (``count`` 0).
    """
    size = mean.numel()
    local = torch.cat(
        [
            torch.full((1,), float(count), dtype=torch.float64, device=mean.device),
            mean.reshape(-1).to(torch.float64),
            variance.reshape(-1).to(torch.float64),
        ]
    )
    gathered = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, local)
    stacked = torch.stack(gathered)
    counts, means, variances = stacked[:, :1], stacked[:, 1 : 1 + size], stacked[:, 1 + size :]
    total = counts.sum()
    weights = counts / total.clamp_min(1.0)  # all zero when every batch is empty: mean and variance 0, count 0
    merged_mean = (weights * means).sum(0)
    merged_variance = (weights * (variances + (means - merged_mean).square())).sum(0)
    return total, merged_mean.view_as(mean), merged_variance.view_as(variance)


def broadcast_object(value: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``value`` on every rank (any picklable object)."""
    box = [value]
    dist.broadcast_object_list(box, src=src)
    return box[0]
