"""Seeding of Python, NumPy, PyTorch and the JAX PRNG key."""

from __future__ import annotations

import os
import random
import time

import numpy as np

from steprl import config, logger


def set_seed(seed: int | None = None, deterministic: bool = False) -> int:
    """Seed ``random``, NumPy, PyTorch (CPU and CUDA) and ``config.jax.key``; return the effective seed.

    ``None`` draws a random seed from OS entropy. In distributed runs the seed is offset by the process rank.
    ``deterministic=True`` makes cuDNN deterministic (slower).
    """
    if seed is None:
        try:
            seed = int.from_bytes(os.urandom(4), byteorder="little")
        except NotImplementedError:  # pragma: no cover
            seed = int(time.time() * 1000)
        seed %= 2**31
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    seed += config.torch.rank + config.jax.rank
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
        try:
            torch.cuda.manual_seed_all(seed)
        except Exception as exc:  # noqa: BLE001
            logger.warning(f"Could not seed CUDA: {exc}")
        if deterministic:
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
            logger.warning("cuDNN deterministic mode enabled: this may slow training down")
    except ImportError:  # pragma: no cover - torch is optional for the core
        pass
    config.jax.key = seed
    logger.info(f"Seed: {seed}")
    return seed
