"""The :class:`Model` base class: spaces, device, parameter utilities, persistence and distributed helpers."""

from __future__ import annotations

import collections
import io
import os
import warnings
import zipfile
from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch
from torch.nn.modules.lazy import LazyModuleMixin

from steprl import config, logger
from steprl.backends.torch_checkpoint import torch_load, torch_save
from steprl.utils.spaces.common import compute_space_size

__all__ = ["Model", "register_action_bounds"]


def register_action_bounds(model: torch.nn.Module, prefix: str, clip_actions: bool, mixin: str) -> bool:
    """Register ``<prefix>_clip_actions_min/max`` (non-persistent buffers) from a Box action space.

    Returns whether clipping is active: only when ``clip_actions`` is set and the action space is a gymnasium Box
    (a warning is logged otherwise). Raises ``TypeError`` when ``Model.__init__`` has not run yet.
    """
    if not hasattr(model, "action_space"):
        raise TypeError(f"Call Model.__init__(...) before {mixin}.__init__(...) in {type(model).__name__}.__init__")
    if not clip_actions:
        return False
    space = model.action_space
    if not isinstance(space, gymnasium.spaces.Box):
        logger.warning(f"{mixin}: clip_actions ignored, the action space is not a gymnasium Box ({space!r})")
        return False
    device = model.device  # type: ignore[attr-defined]
    low = torch.as_tensor(np.asarray(space.low, dtype=np.float32).reshape(-1), device=device)
    high = torch.as_tensor(np.asarray(space.high, dtype=np.float32).reshape(-1), device=device)
    model.register_buffer(f"{prefix}_clip_actions_min", low, persistent=False)
    model.register_buffer(f"{prefix}_clip_actions_max", high, persistent=False)
    return True


def _sample_input(space: Any, device: torch.device) -> torch.Tensor:
    """One flattened sample ``(1, size)`` of ``space`` (random normal values for non-gymnasium or composite spaces)."""
    if isinstance(space, (gymnasium.spaces.Box, gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete)):
        sample = np.asarray(space.sample(), dtype=np.float32).reshape(1, -1)
        return torch.as_tensor(sample, device=device)
    return torch.randn(1, compute_space_size(space, occupied_size=True), device=device)


class Model(torch.nn.Module):
    """Base class of every torch model: subclass it together with a mixin (``class Policy(GaussianMixin, Model)``).

    The subclass implements :meth:`compute`; the mixin provides :meth:`act`.
    """

    def __init__(self, observation_space: Any, action_space: Any, device: str | torch.device | None = None) -> None:
        """Store the spaces and their sizes (``None`` for a ``None`` space) and the parsed device."""
        super().__init__()
        self.device: torch.device = config.torch.parse_device(device)
        self.observation_space = observation_space
        self.action_space = action_space
        self.num_observations: int | None = None if observation_space is None else compute_space_size(observation_space)
        self.num_actions: int | None = None if action_space is None else compute_space_size(action_space)
        self._random_bounds: tuple[torch.Tensor, torch.Tensor, bool] | None = None

    # ----------------------------------------------------------------------------------------- forward pass

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[Any, ...]:
        """Network forward pass; implemented by the user (the return layout depends on the mixin)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute(inputs, role) returning the outputs its mixin expects"
        )

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor | None, dict]:
        """Provided by the mixins; reaching the base implementation means the class order is wrong."""
        logger.warning("Make sure to place the mixins before the Model class in the class definition (Mixin, Model)")
        raise NotImplementedError(
            f"{type(self).__name__}.act() reached Model.act: declare the mixin before Model, "
            "e.g. `class Policy(GaussianMixin, Model)`"
        )

    def forward(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor | None, dict]:
        """Same as :meth:`act`."""
        return self.act(inputs, role)

    def random_act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, None, dict]:
        """Uniform random actions for ``inputs["states"].shape[0]`` rows.

        Discrete → ``(B, 1)`` int64 in ``[0, n)``; MultiDiscrete → ``(B, len(nvec))`` int64 in ``[0, nvec)``;
        Box → ``(B, num_actions)`` float32, per-dimension uniform within finite bounds (standard normal on
        unbounded dimensions, shifted exponential on half-bounded ones, as gymnasium samples them).
        Spaces' ``start`` offsets are ignored, matching the action encoding of the categorical mixins.
        """
        batch = inputs["states"].shape[0]
        space = self.action_space
        if isinstance(space, gymnasium.spaces.Discrete):
            return torch.randint(int(space.n), (batch, 1), device=self.device), None, {}
        if isinstance(space, gymnasium.spaces.MultiDiscrete):
            nvec = torch.as_tensor(space.nvec.reshape(-1), device=self.device)
            actions = (torch.rand(batch, nvec.numel(), device=self.device) * nvec).long()
            return torch.minimum(actions, nvec - 1), None, {}
        if isinstance(space, gymnasium.spaces.Box):
            return self._random_box(batch, space), None, {}
        raise NotImplementedError(
            f"random_act supports gymnasium Discrete, MultiDiscrete and Box action spaces, got {type(space).__name__}"
        )

    def _random_box(self, batch: int, space: gymnasium.spaces.Box) -> torch.Tensor:
        if self._random_bounds is None:
            low = torch.as_tensor(space.low.reshape(-1), dtype=torch.float32, device=self.device)
            high = torch.as_tensor(space.high.reshape(-1), dtype=torch.float32, device=self.device)
            finite = bool(np.isfinite(space.low).all() and np.isfinite(space.high).all())
            self._random_bounds = (low, high, finite)
        low, high, finite = self._random_bounds
        size = low.numel()
        if finite:
            return low + (high - low) * torch.rand(batch, size, device=self.device)
        bounded_low, bounded_high = torch.isfinite(low), torch.isfinite(high)
        uniform = low + (high - low) * torch.rand(batch, size, device=self.device)
        normal = torch.randn(batch, size, device=self.device)
        exponential = torch.empty(batch, size, device=self.device).exponential_()
        actions = torch.where(bounded_low & bounded_high, uniform, normal)
        actions = torch.where(bounded_low & ~bounded_high, low + exponential, actions)
        return torch.where(~bounded_low & bounded_high, high - exponential, actions)

    # ----------------------------------------------------------------------------------------- initialisation

    def init_state_dict(
        self,
        role: str = "",
        inputs: Mapping[str, Any] | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        """Materialise lazy modules (``torch.nn.Lazy*``) by running one :meth:`compute` on sampled inputs.

        Without lazy modules this is a no-op. ``inputs`` default to one sample of the observation space
        (``"states"``) and of the action space (``"taken_actions"``). ``device`` moves the model first.
        """
        if device is not None:
            self.to(config.torch.parse_device(device))
        if not any(isinstance(m, LazyModuleMixin) and m.has_uninitialized_params() for m in self.modules()):
            return
        if not inputs:
            target = next(iter(self.parameters()), None)
            target_device = target.device if target is not None else self.device
            inputs = {
                "states": _sample_input(self.observation_space, target_device),
                "taken_actions": _sample_input(self.action_space, target_device),
            }
        with torch.no_grad():
            self.compute(inputs, role)

    @staticmethod
    def _init_method(method_name: str) -> Any:
        method = getattr(torch.nn.init, method_name, None)
        if not callable(method):
            raise ValueError(f"method_name must name a torch.nn.init function (e.g. 'normal_'), got {method_name!r}")
        return method

    def init_parameters(self, method_name: str = "normal_", *args: Any, **kwargs: Any) -> None:
        """Apply ``torch.nn.init.<method_name>(param, *args, **kwargs)`` to every parameter."""
        method = self._init_method(method_name)
        for parameter in self.parameters():
            method(parameter, *args, **kwargs)

    def _linear_layers(self) -> list[torch.nn.Linear]:
        layers: list[torch.nn.Linear] = []

        def collect(modules: Any) -> None:
            for module in modules:
                if isinstance(module, torch.nn.Sequential):
                    collect(module)
                elif isinstance(module, torch.nn.Linear):
                    layers.append(module)

        collect(self.children())
        return layers

    def init_weights(self, method_name: str = "orthogonal_", *args: Any, **kwargs: Any) -> None:
        """Apply ``torch.nn.init.<method_name>`` to the weights of the ``Linear`` children (recursing into ``Sequential``)."""
        method = self._init_method(method_name)
        for layer in self._linear_layers():
            method(layer.weight, *args, **kwargs)

    def init_biases(self, method_name: str = "constant_", *args: Any, **kwargs: Any) -> None:
        """Apply ``torch.nn.init.<method_name>`` to the biases of the ``Linear`` children (recursing into ``Sequential``)."""
        method = self._init_method(method_name)
        for layer in self._linear_layers():
            if layer.bias is not None:
                method(layer.bias, *args, **kwargs)

    def get_specification(self) -> dict[str, Any]:
        """Model specification (``{}``; RNN models return ``{"rnn": {"sequence_length": L, "sizes": [...]}}``)."""
        return {}

    _LAST_ACT_ATTRIBUTES = ("_g_last", "_mg_last", "_c_last", "_m_last")

    def __getstate__(self) -> dict[str, Any]:
        """Pickle/deepcopy state without the mixins' cached last-``act`` tensors (they may be non-leaf graph nodes)."""
        state = super().__getstate__()
        for key in self._LAST_ACT_ATTRIBUTES:
            if key in state:
                state[key] = None
        return state

    def set_mode(self, mode: str) -> None:
        """``"train"`` → ``train(True)``; ``"eval"`` → ``train(False)``."""
        if mode == "train":
            self.train(True)
        elif mode == "eval":
            self.train(False)
        else:
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")

    # ----------------------------------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike[str], state_dict: Mapping[str, Any] | None = None) -> None:
        """Write the model's (or the given) state dict to ``path`` atomically."""
        torch_save(self.state_dict() if state_dict is None else state_dict, path)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load a state dict saved by :meth:`save` (tensors only), then switch to eval mode."""
        state_dict = torch_load(path, map_location=self.device)
        self.load_state_dict(state_dict)
        self.eval()

    def _read_external_state_dict(self, path: str) -> Mapping[str, torch.Tensor]:
        if path.endswith((".pt", ".pth")):
            try:
                checkpoint = torch.load(path, map_location=self.device, weights_only=True)
            except Exception as exc:
                raise ValueError(
                    f"Could not load {path!r} with weights_only=True ({exc}). Load the checkpoint yourself and "
                    "pass its parameters as migrate(state_dict=...)"
                ) from exc
            return checkpoint.get("model", {}) if isinstance(checkpoint, dict) else {}
        if path.endswith(".zip"):
            with zipfile.ZipFile(path, "r") as archive:
                if "policy.pth" not in archive.namelist():
                    logger.warning(f"No 'policy.pth' in stable-baselines3 archive {path!r}")
                    return {}
                data = archive.read("policy.pth")
            return torch.load(io.BytesIO(data), map_location=self.device, weights_only=True)
        raise ValueError(f"Cannot identify the checkpoint type of {path!r}: expected .pt/.pth (rl_games) or .zip (SB3)")

    def migrate(
        self,
        state_dict: Mapping[str, torch.Tensor] | None = None,
        path: str | None = None,
        name_map: Mapping[str, str] | None = None,
        auto_mapping: bool = True,
        verbose: bool = False,
    ) -> bool:
        """Load parameters from an external state dict (or rl_games ``.pt`` / stable-baselines3 ``.zip`` file).

        Names are mapped by ``name_map`` (own name → external name), then (``auto_mapping``) by equal shape and
        matching ``.weight``/``.bias`` suffix. Returns ``False`` on an ambiguous, missing or multiply-used match.
        Loads non-strictly and switches to eval mode.
        """
        if (state_dict is not None) + (path is not None) != 1:
            raise ValueError("migrate() needs exactly one of state_dict or path")
        name_map = name_map or {}
        external = dict(self._read_external_state_dict(path) if path is not None else state_dict)  # type: ignore[arg-type]
        own = self.state_dict()
        if verbose:
            logger.info("Model state dict:")
            for name, tensor in own.items():
                logger.info(f"  |-- {name} : {list(tensor.shape)}")
            logger.info("Source state dict:")
            for name, tensor in external.items():
                logger.info(f"  |-- {name} : {list(getattr(tensor, 'shape', []))}")

        new_state_dict: dict[str, torch.Tensor] = collections.OrderedDict()
        matches: dict[str, list[str]] = collections.defaultdict(list)
        uses: dict[str, list[str]] = collections.defaultdict(list)

        def match(name: str, external_name: str) -> None:
            new_state_dict[name] = external[external_name]
            matches[name].append(external_name)
            uses[external_name].append(name)

        for name, tensor in own.items():
            if name in name_map:
                external_name = name_map[name]
                if external_name not in external:
                    logger.warning(f"Mapped name {external_name!r} (for {name!r}) not in the source state dict")
                elif tuple(external[external_name].shape) != tuple(tensor.shape):
                    logger.warning(
                        f"Shape mismatch for {name} <- {external_name} : "
                        f"{list(tensor.shape)} != {list(external[external_name].shape)}"
                    )
                else:
                    match(name, external_name)
                continue
            if not auto_mapping:
                continue
            for external_name, external_tensor in external.items():
                if tuple(getattr(external_tensor, "shape", ())) != tuple(tensor.shape):
                    continue
                for suffix in (".weight", ".bias"):
                    if name.endswith(suffix):
                        if external_name.endswith(suffix):
                            match(name, external_name)
                        break
                else:
                    if not external_name.endswith((".weight", ".bias")):
                        match(name, external_name)

        status = True
        for name in own:
            if len(matches[name]) > 1:
                logger.warning(f"Ambiguous match for {name} <- [{', '.join(matches[name])}]")
                status = False
            elif not matches[name]:
                logger.warning(f"Missing match for {name}")
                status = False
        for external_name, names in uses.items():
            if len(names) > 1:
                logger.warning(f"Multiple use of {external_name} -> [{', '.join(names)}]")
                status = False
        self.load_state_dict(new_state_dict, strict=False)
        self.eval()
        return status

    # ----------------------------------------------------------------------------------------- parameters

    def freeze_parameters(self, freeze: bool = True) -> None:
        """Set ``requires_grad = not freeze`` on every parameter."""
        for parameter in self.parameters():
            parameter.requires_grad_(not freeze)

    def update_parameters(self, model: torch.nn.Module, polyak: float = 1) -> None:
        """In place, without gradient: copy ``model``'s parameters (``polyak == 1``) or ``θ ← (1-polyak)θ + polyak·θ_src``."""
        own = list(self.parameters())
        source = list(model.parameters())
        if len(own) != len(source):
            raise ValueError(
                f"update_parameters: {type(self).__name__} has {len(own)} parameter tensors, "
                f"the source model {type(model).__name__} has {len(source)}"
            )
        if not own:
            return
        with torch.no_grad():
            if polyak == 1:
                torch._foreach_copy_(own, source)
            else:
                torch._foreach_mul_(own, 1.0 - polyak)
                torch._foreach_add_(own, source, alpha=polyak)

    @staticmethod
    def _distributed_ready() -> bool:
        return torch.distributed.is_available() and torch.distributed.is_initialized()

    def broadcast_parameters(self, rank: int = 0) -> None:
        """Distributed runs: overwrite every rank's parameters and buffers with those of ``rank`` (else no-op)."""
        if not self._distributed_ready():
            return
        for tensor in self.state_dict().values():
            torch.distributed.broadcast(tensor, src=rank)

    def reduce_parameters(self) -> None:
        """Distributed runs: average the gradients over ranks with one all-reduce of a flat buffer (else no-op)."""
        if not self._distributed_ready():
            return
        grads = [p.grad for p in self.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat, op=torch.distributed.ReduceOp.SUM)
        flat.div_(torch.distributed.get_world_size())
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def tensor_to_space(self, tensor: torch.Tensor, space: Any, start: int = 0) -> Any:
        """Deprecated: use ``steprl.utils.spaces.torch.unflatten_tensorized_space(space, tensor)``."""
        warnings.warn(
            "Model.tensor_to_space is deprecated; use steprl.utils.spaces.torch.unflatten_tensorized_space",
            DeprecationWarning,
            stacklevel=2,
        )
        from steprl.utils.spaces.torch import unflatten_tensorized_space

        return unflatten_tensorized_space(space, tensor)
