"""The JAX ``Agent``: the backend-neutral bookkeeping of :class:`steprl.core.agent.Agent` plus what is JAX —
device, the agent's own PRNG key, checkpoint files (msgpack + JSON header, no pickle) and module states as
pytrees of arrays."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import flax.serialization
import flax.traverse_util
import jax
import jax.numpy as jnp
import numpy as np

from steprl import config
from steprl.backends.jax_checkpoint import jax_load, jax_save, to_host
from steprl.core import agent as core
from steprl.models.jax.base import Model
from steprl.resources.optimizers.jax.adam import AdamOptimizer
from steprl.resources.preprocessors.jax import RunningStandardScaler

__all__ = ["Agent"]


def _flat_shapes(tree: Any) -> dict[tuple, tuple]:
    """``{path: shape}`` of a state-dict-like pytree (``()`` for scalars)."""
    if not isinstance(tree, Mapping):
        return {(): tuple(np.shape(tree))}
    flat = flax.traverse_util.flatten_dict(dict(tree), keep_empty_nodes=True)
    return {path: tuple(np.shape(value)) for path, value in flat.items()}


class Agent(core.Agent):
    """Base class of every JAX agent.

    Adds to the core bookkeeping: ``device`` (``None``: ``steprl.config.jax.device``), the agent's PRNG key (split
    explicitly from ``config.jax.key`` at construction, advanced by every random call, stored in checkpoints and
    restored on resume), and the JAX checkpoint format. On a CPU device it turns JAX's asynchronous CPU dispatch off
    (``jax_cpu_enable_async_dispatch``), which speeds up small per-step calls without changing any result. Checkpoint modules are JAX models (their parameters), the
    optimizers returned by :func:`steprl.resources.optimizers.jax.Adam` (their optax state), preprocessors and plain
    values. The agent's modules are immutable pytrees: loading replaces them through :meth:`_replace_module`.
    Checkpoint files end in ``.ckpt`` (see :mod:`steprl.backends.jax_checkpoint`).
    """

    checkpoint_suffix = ".ckpt"

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        config.jax.init_distributed()
        self.device = config.jax.parse_device(device) if device is not None else config.jax.device
        super().__init__(models, memory, observation_space, action_space, cfg)
        for role, model in self.models.items():
            if model is not None and getattr(model, "state_dict", None) is None:
                raise ValueError(
                    f"Model '{role}' has no parameters: call its init_state_dict('{role}') before building the agent"
                )
        key, self._key = jax.random.split(config.jax.key)
        config.jax.key = key
        if self.device.platform == "cpu":
            # per-step calls are tiny: handing them to JAX's CPU dispatch thread costs more than running them
            # (2-3x the step time on a busy 2-core machine); results are identical either way
            jax.config.update("jax_cpu_enable_async_dispatch", False)

    def __str__(self) -> str:
        head, *rest = super().__str__().splitlines()
        return "\n".join([head, f"  |-- device: {self.device}", *rest])

    # ------------------------------------------------------------------ core hooks
    def _process_rank(self) -> int:
        return config.jax.rank if config.jax.is_distributed else 0

    def _save_file(self, data: Mapping[str, Any], path: str) -> None:
        jax_save(data, path)

    def _load_file(self, path: str) -> Any:
        return jax_load(path)

    def _rng_state(self) -> dict[str, Any]:
        np_state = np.random.get_state()
        py_state = random.getstate()
        return {
            "key": np.asarray(
                jax.random.key_data(self._key) if jnp.issubdtype(self._key.dtype, jax.dtypes.prng_key) else self._key
            ),
            "numpy_keys": np.asarray(np_state[1], dtype=np.uint32),
            "numpy_pos": int(np_state[2]),
            "numpy_gauss": [int(np_state[3]), float(np_state[4])],
            "python": np.asarray(py_state[1], dtype=np.int64),
            "python_gauss": py_state[2],
            "act_count": int(getattr(self, "_act_count", 0)),
        }

    def _set_rng_state(self, state: Any) -> None:
        self._key = jax.device_put(np.asarray(state["key"], dtype=np.uint32), self.device)
        if hasattr(self, "_act_count"):
            self._act_count = int(state.get("act_count", 0))
        keys = np.asarray(state["numpy_keys"], dtype=np.uint32)
        gauss = state["numpy_gauss"]
        np.random.set_state(("MT19937", keys, int(state["numpy_pos"]), int(gauss[0]), float(gauss[1])))
        random.setstate((3, tuple(int(v) for v in np.asarray(state["python"])), state["python_gauss"]))

    @staticmethod
    def _state_of(module: Any) -> Any:
        if isinstance(module, Model):
            return to_host(flax.serialization.to_state_dict(module.state_dict.params))
        if isinstance(module, AdamOptimizer):
            return to_host(flax.serialization.to_state_dict(module.state))
        if hasattr(module, "state_dict"):
            return module.state_dict()
        return module

    def _check_module_state(self, name: str, module: Any, state: Any) -> str | None:
        """Parameter/state paths and shapes must match the agent's."""
        if not isinstance(module, (Model, AdamOptimizer, RunningStandardScaler)):
            return None
        if not isinstance(state, Mapping):
            return f"expected a dict of arrays, found {type(state).__name__}"
        own, stored = _flat_shapes(self._state_of(module)), _flat_shapes(state)
        missing, unexpected = sorted(set(own) - set(stored)), sorted(set(stored) - set(own))
        if missing or unexpected:
            return f"missing {['/'.join(map(str, p)) for p in missing[:5]]}, unexpected {['/'.join(map(str, p)) for p in unexpected[:5]]}"
        for path, shape in own.items():
            if stored[path] != shape:
                return f"'{'/'.join(map(str, path))}' has shape {stored[path]}, this agent's has {shape}"
        return None

    def _load_module(self, name: str, module: Any, state: Any) -> None:
        if isinstance(module, Model):
            params = flax.serialization.from_state_dict(module.state_dict.params, state)
            module.state_dict = module.state_dict.replace(params=jax.device_put(params, self.device))
            module.set_mode("eval")
        elif isinstance(module, AdamOptimizer):
            restored = flax.serialization.from_state_dict(module.state, state)
            self._replace_module(name, module.replace(state=jax.device_put(restored, self.device)))
        else:
            super()._load_module(name, module, state)
            if isinstance(module, RunningStandardScaler):
                module.state = jax.device_put(module.state, self.device)

    def _replace_module(self, name: str, module: Any) -> None:
        """Swap the immutable checkpoint module ``name`` (an optimizer) for ``module``, attribute included."""
        self.checkpoint_modules[name] = module
        if hasattr(self, name):
            setattr(self, name, module)

    def _next_key(self) -> jax.Array:
        """A fresh subkey of the agent's key (the key advances)."""
        self._key, subkey = jax.random.split(self._key)
        return subkey

    def migrate(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError("Agent.migrate (rl_games checkpoints) is not available for JAX agents")
