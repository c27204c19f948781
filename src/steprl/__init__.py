"""steprl: reinforcement learning for PyTorch and JAX whose centre is the step-by-step ManualTrainer."""

from __future__ import annotations

import logging
import os
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from typing import Any

from steprl._ranks import RankConfig

__all__ = ["__version__", "logger", "config"]

try:
    __version__: str = _pkg_version("steprl")
except PackageNotFoundError:  # pragma: no cover - source checkout without install
    __version__ = "unknown"


class _Formatter(logging.Formatter):
    _COLORS = {
        logging.DEBUG: "\x1b[38;20m",
        logging.INFO: "\x1b[38;20m",
        logging.WARNING: "\x1b[33;20m",
        logging.ERROR: "\x1b[31;20m",
        logging.CRITICAL: "\x1b[31;1m",
    }

    def format(self, record: logging.LogRecord) -> str:
        color = self._COLORS.get(record.levelno, "")
        reset = "\x1b[0m" if color else ""
        return f"{color}[{record.name}:{record.levelname}] {record.getMessage()}{reset}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (it may be replaced, e.g. by test capture, after import)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


logger = logging.getLogger("steprl")
logger.setLevel(logging.DEBUG)
if not logger.handlers:
    _handler = _StderrHandler()
    _handler.setLevel(logging.DEBUG)
    _handler.setFormatter(_Formatter())
    logger.addHandler(_handler)
logger.propagate = False


class _TorchConfig(RankConfig):
    """PyTorch settings: default device and distributed rank/world size (read from torchrun's variables)."""

    def __init__(self) -> None:
        super().__init__()
        self._device: Any = None

    @staticmethod
    def parse_device(device: Any, validate: bool = True) -> Any:
        """Turn ``None``, a string or a ``torch.device`` into a usable ``torch.device``.

        ``None`` (or an unusable request) falls back to ``cuda:<local_rank>`` when CUDA is available, else ``cpu``.
        """
        import torch

        if isinstance(device, torch.device):
            parsed = device
        elif isinstance(device, str):
            try:
                parsed = torch.device(device)
            except RuntimeError as exc:
                logger.warning(f"Invalid device '{device}' ({exc}); using the default device")
                parsed = None
        elif device is None:
            parsed = None
        else:
            raise TypeError(f"device must be None, a string or a torch.device, got {type(device).__name__}")
        if parsed is None:
            local_rank = int(os.getenv("LOCAL_RANK", "0"))
            parsed = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
        if validate and parsed.type != "cpu":
            try:
                torch.zeros((1,), device=parsed)
            except Exception as exc:  # noqa: BLE001 - any failure means the device is unusable
                logger.warning(f"Device '{parsed}' is not usable ({exc}); falling back to cpu")
                parsed = torch.device("cpu")
        return parsed

    @property
    def device(self) -> Any:
        """The default device (``cuda:<local_rank>`` if CUDA is available, else ``cpu``)."""
        if self._device is None:
            self._device = self.parse_device(None)
        return self._device

    @device.setter
    def device(self, device: Any) -> None:
        self._device = self.parse_device(device)

    def init_distributed(self) -> None:
        """Join the default process group once when launched with ``torchrun`` (``WORLD_SIZE > 1``): NCCL on
        ``cuda:<local_rank>`` when CUDA is available, else gloo (see :mod:`steprl.utils.distributed.torch`)."""
        if not self.is_distributed or self._distributed_ready:
            return
        from steprl.utils.distributed import torch as distributed

        backend = distributed.start(self._rank, self._world_size, self._local_rank)
        self._distributed_ready = True
        logger.info(
            f"Distributed training ({backend}): rank {self._rank}/{self._world_size} (local rank {self._local_rank})"
        )


class _Config:
    """``config.torch``, ``config.jax`` (device, distributed rank, ...) and ``config.strict`` (unknown keys are errors)."""

    def __init__(self) -> None:
        from steprl._jax_config import JaxConfig  # here: it needs ``logger``, defined above

        self.torch = _TorchConfig()
        self.jax = JaxConfig()
        self._strict: bool | None = None

    @property
    def strict(self) -> bool:
        """Unknown configuration keys raise ``KeyError`` instead of a warning (default: ``STEPRL_STRICT=1``)."""
        if self._strict is not None:
            return self._strict
        return os.getenv("STEPRL_STRICT", "").strip().lower() in ("1", "true", "yes", "on")

    @strict.setter
    def strict(self, value: bool | None) -> None:
        self._strict = None if value is None else bool(value)


config = _Config()
