"""``steprl.config.jax``: where JAX arrays live, where memories keep theirs, the PRNG key and the distributed rank.

Importing this module does not import jax: the device and the key are materialised on first use.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from steprl import logger
from steprl._ranks import RankConfig

BACKENDS = ("numpy", "jax")


def _seed_words(seed: int) -> np.ndarray:
    """An int seed as the uint32 words of ``jax.random.PRNGKey(seed)`` (without 64-bit mode JAX keeps 32 bits)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"config.jax.key must be an int seed or a JAX PRNG key, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"config.jax.key seed must be in [0, 2**64), got {seed}")
    return np.array([0, int(seed) & 0xFFFFFFFF], dtype=np.uint32)


class JaxConfig(RankConfig):
    """JAX settings: ``backend`` (``"numpy"``/``"jax"``), ``key``, ``device`` and the distributed rank/world size.

    The rank variables are those the JAX launcher sets: ``JAX_LOCAL_RANK``, ``JAX_RANK``, ``JAX_WORLD_SIZE``,
    ``JAX_COORDINATOR_ADDR`` and ``JAX_COORDINATOR_PORT``.
    """

    def __init__(self) -> None:
        super().__init__("JAX_")
        self._backend = "numpy"
        self._key: Any = np.array([0, 0], dtype=np.uint32)
        self._device: Any = None
        address = os.getenv("JAX_COORDINATOR_ADDR", "127.0.0.1")
        port = os.getenv("JAX_COORDINATOR_PORT", "1234")
        self._coordinator_address = f"{address}:{port}"

    @property
    def coordinator_address(self) -> str:
        return self._coordinator_address

    @property
    def backend(self) -> str:
        """Where memories and wrappers keep arrays: ``"numpy"`` (host NumPy arrays, the default) or ``"jax"``."""
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        if value not in BACKENDS:
            raise ValueError(f"config.jax.backend must be 'numpy' or 'jax', got {value!r}")
        self._backend = value

    @property
    def key(self) -> Any:
        """The PRNG key (a ``jax.random.PRNGKey``-style uint32 array on :attr:`device`); ``set_seed`` sets it."""
        if isinstance(self._key, np.ndarray):
            import jax

            self._key = jax.device_put(self._key, self.device)
        return self._key

    @key.setter
    def key(self, value: Any) -> None:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            self._key = _seed_words(int(value))
        elif type(value).__module__.partition(".")[0] in ("jax", "jaxlib"):
            self._key = value
        elif isinstance(value, np.ndarray) and value.shape == (2,) and value.dtype == np.uint32:
            self._key = value.copy()
        else:
            raise TypeError(f"config.jax.key must be an int seed or a JAX PRNG key, got {type(value).__name__}")

    def parse_device(self, device: Any) -> Any:
        """A ``jax.Device`` for ``None``, a ``"type:index"`` string (e.g. ``"cpu"``, ``"cuda:1"``) or a device.

        ``None`` or an unavailable device falls back to this process's accelerator (``cuda:<local_rank>``) when
        there is one, else the first JAX device. In distributed runs the process-local device is always used.
        """
        import jax

        self.init_distributed()
        if device is not None and not isinstance(device, str) and not isinstance(device, jax.Device):
            raise TypeError(f"device must be None, a string or a jax.Device, got {type(device).__name__}")
        if isinstance(device, jax.Device) and not self.is_distributed:
            return device
        if self.is_distributed:
            return jax.local_devices()[0]
        if isinstance(device, str):
            kind, _, index = device.partition(":")
            kind = {"cuda": "gpu"}.get(kind.lower(), kind.lower())
            try:
                devices = jax.devices(kind)
                return devices[int(index) if index else 0]
            except (RuntimeError, IndexError, ValueError) as exc:
                logger.warning(f"Invalid device '{device}' ({exc}); using the default JAX device")
        try:
            return jax.devices("gpu")[self._local_rank]
        except (RuntimeError, IndexError):
            return jax.devices()[0]

    @property
    def device(self) -> Any:
        """The default device (``cuda:<local_rank>`` when JAX has a GPU, else the first JAX device)."""
        if self._device is None:
            self._device = self.parse_device(None)
        return self._device

    @device.setter
    def device(self, device: Any) -> None:
        self._device = self.parse_device(device)
        if not isinstance(self._key, np.ndarray):
            import jax

            self._key = jax.device_put(self._key, self._device)

    def init_distributed(self) -> None:
        """Connect to the coordinator once when launched with ``JAX_WORLD_SIZE > 1`` (no-op otherwise).

        steprl calls it before its first JAX operation (device, key, agent): JAX requires it before anything touches
        a device. CPU collectives go through gloo, so CPU-only processes can average their gradients too.
        """
        if not self.is_distributed or self._distributed_ready:
            return
        import jax

        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        try:
            jax.distributed.initialize(
                coordinator_address=self._coordinator_address,
                num_processes=self._world_size,
                process_id=self._rank,
                local_device_ids=self._local_rank,
            )
        except RuntimeError as exc:
            if "must be called before" not in str(exc):
                raise
            raise RuntimeError(
                f"Distributed JAX (JAX_WORLD_SIZE={self._world_size}) must connect to the coordinator before any JAX "
                "computation: create steprl objects (wrap_env, models, memories, agents) before running JAX code "
                "of your own, or call steprl.config.jax.init_distributed() first"
            ) from exc
        self._distributed_ready = True
        logger.info(f"Distributed training (JAX): rank {self._rank}/{self._world_size} (local rank {self._local_rank})")
