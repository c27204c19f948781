"""The JAX ``Model``: a ``flax.linen.Module`` whose parameters live in ``state_dict`` (skrl's JAX layout).

The user subclasses it together with a mixin (``class Policy(GaussianMixin, Model)``), writes ``__call__(inputs,
role)`` with ``@nn.compact`` and calls ``init_state_dict(role)`` once; the mixin provides ``act``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import flax
import flax.serialization
import flax.struct
import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from steprl import config, logger
from steprl.models.jax._random import next_key
from steprl.utils.spaces.common import compute_space_size

__all__ = ["Model", "StateDict"]


class StateDict(flax.struct.PyTreeNode):
    """A model's parameters and its ``apply`` function (``state_dict.params``, ``state_dict.apply_fn``)."""

    apply_fn: Any = flax.struct.field(pytree_node=False)
    params: Any = None

    @classmethod
    def create(cls, *, apply_fn: Any, params: Any) -> StateDict:
        return cls(apply_fn=apply_fn, params=params)


def _sample_input(space: Any) -> np.ndarray:
    """One flattened float32 sample ``(1, size)`` of ``space`` (zeros for composite or non-gymnasium spaces)."""
    if isinstance(space, (gymnasium.spaces.Box, gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete)):
        return np.asarray(space.sample(), dtype=np.float32).reshape(1, -1)
    return np.zeros((1, compute_space_size(space, occupied_size=True)), dtype=np.float32)


class Model(flax.linen.Module):
    """Base class of every JAX model.

    Attributes: ``observation_space``, ``action_space``, ``device``, ``num_observations``, ``num_actions``
    (``compute_space_size``; ``None`` for a ``None`` space), ``state_dict`` (after :meth:`init_state_dict`) and
    ``training``. A subclass's ``__init__`` must accept ``observation_space``, ``action_space``, ``device`` and
    ``**kwargs`` (flax re-creates modules from these fields) and call ``Model.__init__`` before the mixins'.
    """

    observation_space: Any
    action_space: Any
    device: Any = None

    def __init__(
        self, observation_space: Any, action_space: Any, device: Any = None, parent: Any = None, name: Any = None
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = config.jax.parse_device(device) if isinstance(device, str) or device is None else device
        self.parent = parent
        self.name = name
        self.num_observations = None if observation_space is None else compute_space_size(observation_space)
        self.num_actions = None if action_space is None else compute_space_size(action_space)
        self.state_dict: StateDict | None = None
        self.training = False
        flax.linen.Module.__post_init__(self)

    def __hash__(self) -> int:
        return id(self)

    def __setattr__(self, name: str, value: Any) -> None:
        """Plain attributes (mixin settings, ``state_dict``, ``training``) may be set after construction; flax's
        rules apply inside ``setup``."""
        state = self.__dict__.get("_state")
        if state is not None and state.is_initialized and not state.in_setup:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    # ------------------------------------------------------------------ parameters
    def init_state_dict(
        self, role: str = "", inputs: Mapping[str, Any] | None = None, key: jax.Array | None = None
    ) -> None:
        """Create ``state_dict`` by running ``init`` on ``inputs`` (default: one sample of each space)."""
        if not inputs:
            inputs = {"states": _sample_input(self.observation_space)}
            if self.action_space is not None:
                inputs["taken_actions"] = _sample_input(self.action_space)
        inputs = dict(inputs)
        if isinstance(inputs["states"], (int, np.integer)):
            inputs["states"] = np.array(inputs["states"]).reshape(-1, 1)
        key = next_key() if key is None else key
        inputs.setdefault("key", key)
        with jax.default_device(self.device):
            params = self.init(key, inputs, role)
        self.state_dict = StateDict.create(apply_fn=self.apply, params=params)

    def _params(self, params: Any) -> Any:
        if params is not None:
            return params
        if self.state_dict is None:
            raise RuntimeError(f"{type(self).__name__} has no parameters: call init_state_dict(role) first")
        return self.state_dict.params

    def __call__(self, inputs: Mapping[str, Any], role: str = "") -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(inputs, role)")

    def act(self, inputs: Mapping[str, Any], role: str = "", params: Any = None) -> tuple[Any, Any, dict]:
        """Provided by the mixins; reaching the base implementation means the class order is wrong."""
        logger.warning("Make sure to place the mixins before the Model class in the class definition (Mixin, Model)")
        raise NotImplementedError(
            f"{type(self).__name__}.act() reached Model.act: declare the mixin before Model, "
            "e.g. `class Policy(GaussianMixin, Model)`"
        )

    def random_act(self, inputs: Mapping[str, Any], role: str = "", params: Any = None) -> tuple[jax.Array, None, dict]:
        """Uniform random actions for ``inputs["states"].shape[0]`` rows (Discrete ``(B, 1)``, MultiDiscrete
        ``(B, len(nvec))`` ints; Box ``(B, num_actions)`` within its per-dimension bounds)."""
        batch = int(inputs["states"].shape[0])
        key = inputs.get("key")
        key = next_key() if key is None else key
        space = self.action_space
        if isinstance(space, gymnasium.spaces.Discrete):
            return jax.random.randint(key, (batch, 1), 0, int(space.n)), None, {}
        if isinstance(space, gymnasium.spaces.MultiDiscrete):
            nvec = jnp.asarray(space.nvec.reshape(-1))
            return jax.random.randint(key, (batch, nvec.size), 0, nvec), None, {}
        if isinstance(space, gymnasium.spaces.Box):
            low = np.asarray(space.low, dtype=np.float32).reshape(-1)
            high = np.asarray(space.high, dtype=np.float32).reshape(-1)
            if not (np.isfinite(low).all() and np.isfinite(high).all()):
                raise NotImplementedError("random_act needs a Box action space with finite bounds")
            return jax.random.uniform(key, (batch, low.size), minval=low, maxval=high), None, {}
        raise NotImplementedError(
            f"random_act supports gymnasium Discrete, MultiDiscrete and Box action spaces, got {type(space).__name__}"
        )

    def init_parameters(self, method_name: str = "normal", *args: Any, **kwargs: Any) -> None:
        """Re-initialise every parameter with ``jax.nn.initializers.<method_name>(*args, **kwargs)``."""
        self._reinit(lambda path: True, method_name, args, kwargs)

    def init_weights(self, method_name: str = "normal", *args: Any, **kwargs: Any) -> None:
        """Re-initialise every ``kernel`` with ``jax.nn.initializers.<method_name>``."""
        self._reinit(lambda path: path[-1] == "kernel", method_name, args, kwargs)

    def init_biases(self, method_name: str = "constant", *args: Any, **kwargs: Any) -> None:
        """Re-initialise every ``bias`` with ``jax.nn.initializers.<method_name>``."""
        self._reinit(lambda path: path[-1] == "bias", method_name, args, kwargs)

    def _reinit(self, select: Any, method_name: str, args: tuple, kwargs: dict) -> None:
        factory = getattr(jax.nn.initializers, method_name, None)
        if factory is None:
            raise ValueError(f"Unknown initializer {method_name!r} (expected a jax.nn.initializers name)")
        init = factory(*args, **kwargs)
        params = flax.traverse_util.flatten_dict(flax.core.unfreeze(self._params(None)))
        for path, value in params.items():
            if select(path):
                params[path] = init(next_key(), value.shape, value.dtype)
        self.state_dict = self.state_dict.replace(params=flax.traverse_util.unflatten_dict(params))

    def get_specification(self) -> dict[str, Any]:
        """``{}``: JAX models have no recurrent specification."""
        return {}

    def set_mode(self, mode: str) -> None:
        """``"train"`` or ``"eval"`` (sets ``training``)."""
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        self.training = mode == "train"

    # ------------------------------------------------------------------ files and copies
    def save(self, path: str | os.PathLike[str], state_dict: Any = None) -> None:
        """Write the parameters (or ``state_dict``'s) with flax's msgpack serialization, atomically."""
        from steprl.core.checkpoint import atomic_write

        params = self._params(None) if state_dict is None else getattr(state_dict, "params", state_dict)
        data = flax.serialization.msgpack_serialize(jax.tree_util.tree_map(np.asarray, flax.core.unfreeze(params)))
        atomic_write(path, lambda f: f.write(data))

    def load(self, path: str | os.PathLike[str]) -> None:
        """Read parameters written by :meth:`save` (same structure and shapes required), then eval mode."""
        from steprl.core.checkpoint import CheckpointError

        with open(path, "rb") as f:
            raw = f.read()
        try:
            stored = flax.serialization.msgpack_restore(raw)
            params = flax.serialization.from_state_dict(flax.core.unfreeze(self._params(None)), stored)
        except Exception as exc:  # noqa: BLE001 - any failure means the file is not this model's parameters
            raise CheckpointError(f"Cannot load model parameters from '{path}': {exc}") from exc
        self.state_dict = self.state_dict.replace(params=jax.tree_util.tree_map(jnp.asarray, params))
        self.set_mode("eval")

    def migrate(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError("Model.migrate is not available for JAX models")

    def freeze_parameters(self, freeze: bool = True) -> None:
        """No-op: JAX parameters have no gradient flag (gradients are taken explicitly)."""

    def update_parameters(self, model: Model, polyak: float = 1) -> None:
        """Copy ``model``'s parameters (``polyak == 1``) or blend them: ``θ ← (1 - polyak)·θ + polyak·θ_src``."""
        source = model._params(None)
        if polyak == 1:
            params = source
        else:
            params = jax.tree_util.tree_map(lambda p, s: (1 - polyak) * p + polyak * s, self._params(None), source)
        self.state_dict = self.state_dict.replace(params=params)

    def broadcast_parameters(self, rank: int = 0) -> None:
        """Give every process rank ``rank``'s parameters (distributed runs; no-op in one process)."""
        if not config.jax.is_distributed or self.state_dict is None:
            return
        from steprl.agents.jax.parallel import broadcast_from_rank

        self.state_dict = self.state_dict.replace(params=broadcast_from_rank(self.state_dict.params, rank))

    def reduce_parameters(self, tree: Any) -> Any:
        """The pytree ``tree`` averaged over processes (itself outside distributed runs)."""
        if not config.jax.is_distributed:
            return tree
        from jax.experimental import multihost_utils

        return jax.tree_util.tree_map(
            lambda x: x / config.jax.world_size, multihost_utils.process_allgather(tree).sum(0)
        )
