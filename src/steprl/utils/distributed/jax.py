"""``python -m steprl.utils.distributed.jax [options] script.py [script args]``: run a JAX training script as
several processes (data-parallel training, one JAX device per process).

On each node the launcher starts ``--nproc_per_node`` copies of the script with the variables ``steprl.config.jax``
reads: ``JAX_LOCAL_RANK`` (the process's index on its node), ``JAX_RANK`` (``node_rank * nproc_per_node +
local rank``), ``JAX_WORLD_SIZE`` (``nnodes * nproc_per_node``), ``JAX_COORDINATOR_ADDR`` and
``JAX_COORDINATOR_PORT`` (where rank 0 serves the coordination service). SIGINT, SIGTERM and SIGHUP sent to the
launcher are forwarded to every process. When a process fails (non-zero exit or killed by a signal), the launcher
says which one and how, stops the others (SIGTERM, then SIGKILL after a grace period) and exits non-zero; a
process that fails on another node makes the next collective fail, and JAX's coordination service terminates the
processes still waiting once the dead one misses its heartbeats (100 s by default).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType

__all__ = ["main", "parse_args", "rank_environments"]

DEFAULT_COORDINATOR = "127.0.0.1:5000"
GRACE_SECONDS = 10.0  # how long stopped processes get to exit after SIGTERM before SIGKILL
POLL_SECONDS = 0.1
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PREFIX = "[steprl.utils.distributed.jax]"


def _positive(name: str) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be >= 1, got {value}")
        return value

    return parse  # type: ignore[return-value]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m steprl.utils.distributed.jax",
        description="Run a JAX training script as several processes (one JAX device each).",
    )
    parser.add_argument("--nnodes", type=_positive("--nnodes"), default=1, help="number of nodes (default: 1)")
    parser.add_argument(
        "--nproc_per_node", "--nproc-per-node", dest="nproc_per_node", type=_positive("--nproc_per_node"), default=1,
        help="processes on this node (default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "--node_rank", "--node-rank", dest="node_rank", type=int, default=0,
        help="this node's index in [0, nnodes) (default: 0)",
    )  # fmt: skip
    parser.add_argument(
        "--coordinator_address", "--coordinator-address", dest="coordinator_address", default=DEFAULT_COORDINATOR,
        help=f"host:port of the coordination service, served by rank 0 on node 0 (default: {DEFAULT_COORDINATOR})",
    )  # fmt: skip
    parser.add_argument("script", help="the Python script every process runs")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    return parser


def _split_address(address: str) -> tuple[str, int] | None:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        return None
    return host, int(port)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The launcher's options; an invalid one prints what is wrong and exits with status 2."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.node_rank < args.nnodes:
        parser.error(f"--node_rank must be in [0, {args.nnodes}) for --nnodes {args.nnodes}, got {args.node_rank}")
    address = _split_address(args.coordinator_address)
    if address is None:
        parser.error(
            f"--coordinator_address must be host:port with a port in [1, 65535] (e.g. {DEFAULT_COORDINATOR}), "
            f"got {args.coordinator_address!r}"
        )
    args.coordinator_host, args.coordinator_port = address
    if not os.path.isfile(args.script):
        parser.error(f"script {args.script!r} does not exist (give the path of a Python file)")
    return args


def rank_environments(
    nnodes: int, node_rank: int, nproc_per_node: int, host: str, port: int, base: Mapping[str, str]
) -> list[dict[str, str]]:
    """The environment of each process of node ``node_rank``: ``base`` plus the ``JAX_*`` rank variables."""
    world_size = nnodes * nproc_per_node
    return [
        {
            **base,
            "JAX_LOCAL_RANK": str(local_rank),
            "JAX_RANK": str(node_rank * nproc_per_node + local_rank),
            "JAX_WORLD_SIZE": str(world_size),
            "JAX_COORDINATOR_ADDR": host,
            "JAX_COORDINATOR_PORT": str(port),
        }
        for local_rank in range(nproc_per_node)
    ]


def _say(message: str) -> None:
    print(f"{_PREFIX} {message}", file=sys.stderr, flush=True)


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class _Group:
    """The node's processes: started together, signalled together, stopped together."""

    def __init__(self, command: list[str], environments: list[dict[str, str]]) -> None:
        self.ranks = [int(env["JAX_RANK"]) for env in environments]
        # each process leads its own process group: a terminal's Ctrl-C reaches it once, through the launcher, and
        # stopping it also stops what it started (e.g. environment subprocesses)
        self.processes = [subprocess.Popen(command, env=env, process_group=0) for env in environments]

    def signal_all(self, signum: int) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signum)
                except ProcessLookupError:
                    pass

    def stop(self, grace: float) -> None:
        """SIGTERM to the running processes, SIGKILL to those still running after ``grace`` seconds."""
        self.signal_all(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while any(p.poll() is None for p in self.processes) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        survivors = [rank for rank, p in zip(self.ranks, self.processes) if p.poll() is None]
        if survivors:
            _say(f"ranks {survivors} did not exit {grace:g} s after SIGTERM: killing them")
            self.signal_all(signal.SIGKILL)
        for process in self.processes:
            process.wait()

    def first_failure(self) -> tuple[int, int] | None:
        """``(rank, return code)`` of a process that failed, if any."""
        for rank, process in zip(self.ranks, self.processes):
            code = process.poll()
            if code is not None and code != 0:
                return rank, code
        return None

    def finished(self) -> bool:
        return all(p.poll() is not None for p in self.processes)


def main(argv: Sequence[str] | None = None) -> int:
    """Launch the processes, wait for them and return the exit status (0 when every process succeeded)."""
    args = parse_args(argv)
    environments = rank_environments(
        args.nnodes, args.node_rank, args.nproc_per_node, args.coordinator_host, args.coordinator_port, os.environ
    )
    command = [sys.executable, args.script, *args.script_args]
    received: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        group.signal_all(signum)

    previous = {signum: signal.getsignal(signum) for signum in _FORWARDED}
    group = _Group(command, environments)
    for signum in _FORWARDED:
        signal.signal(signum, forward)
    try:
        while not group.finished():
            failure = group.first_failure()
            if failure is not None:
                rank, code = failure
                others = sum(p.poll() is None for p in group.processes)
                _say(f"rank {rank} {_describe(code)}; stopping the {others} other running process(es) of this node")
                group.stop(GRACE_SECONDS)
                return code if code > 0 else 128 - code
            time.sleep(POLL_SECONDS)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    failure = group.first_failure()
    if failure is not None:
        rank, code = failure
        _say(f"rank {rank} {_describe(code)}")
        return code if code > 0 else 128 - code
    if received:
        return 128 + received[0]
    return 0


if __name__ == "__main__":
    sys.exit(main())
