"""Space helpers (backend-neutral size computation; tensor conversions live in the per-backend modules)."""

from steprl.utils.spaces.common import compute_space_size

__all__ = ["compute_space_size"]
