"""Base class of the PyTorch exploration noises."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from steprl import config

__all__ = ["Noise", "SizeLike"]

SizeLike = int | Sequence[int] | torch.Size


def as_size(size: SizeLike) -> torch.Size:
    """``torch.Size`` of an int, a sequence of ints or a ``torch.Size`` (``TypeError`` otherwise)."""
    if isinstance(size, int) and not isinstance(size, bool):
        return torch.Size([size])
    try:
        return torch.Size(size)  # type: ignore[arg-type]
    except TypeError as exc:
        raise TypeError(f"size must be an int, a sequence of ints or a torch.Size, got {size!r}") from exc


class Noise:
    """Base class of the noises: subclasses implement :meth:`sample`.

    Samples are drawn on ``device`` (``None``: ``steprl.config.torch.device``) without any host synchronisation.
    """

    def __init__(self, device: str | torch.device | None = None) -> None:
        self.device: torch.device = config.torch.parse_device(device) if device is not None else config.torch.device

    def sample(self, size: SizeLike) -> torch.Tensor:
        """A tensor of noise of shape ``size``."""
        raise NotImplementedError(f"{type(self).__name__} must implement sample(size)")

    def sample_like(self, tensor: torch.Tensor) -> torch.Tensor:
        """A tensor of noise with the shape of ``tensor`` (``sample(tensor.shape)``)."""
        return self.sample(tensor.shape)

    def reset(self, mask: torch.Tensor | None = None) -> None:
        """Forget the noise's internal state (steprl addition; stateless noises: nothing to do).

        ``mask`` (boolean, one row per environment) restricts the reset to the rows where it is true.
        """
