"""The PyTorch ``Agent``: the backend-neutral bookkeeping of :class:`steprl.core.agent.Agent` plus what is torch —
device placement, distributed start-up, mixed precision, the one optimizer step, checkpoint files, RNG state."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from steprl import config
from steprl.backends.torch_checkpoint import torch_load, torch_save
from steprl.core import agent as core
from steprl.utils.distributed import torch as distributed

__all__ = ["Agent"]


def _rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states as tensors/plain values (loadable with ``weights_only=True``)."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {
        "cuda": cuda,
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "numpy_gauss": [int(np_state[3]), float(np_state[4])],
        "python": torch.tensor(py_state[1], dtype=torch.int64),
        "python_gauss": py_state[2],
    }


def _set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore :func:`_rng_state` (tensors may have been mapped to a GPU by ``map_location``)."""
    torch.set_rng_state(state["torch"].cpu())
    cuda = [s.cpu() for s in state.get("cuda", [])]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    keys = state["numpy_keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, state["numpy_pos"], state["numpy_gauss"][0], state["numpy_gauss"][1]))
    random.setstate((3, tuple(int(v) for v in state["python"].cpu().tolist()), state["python_gauss"]))


def clip_grad_norm(params: Iterable[torch.Tensor], max_norm: float) -> None:
    """Scale the gradients of ``params`` so that their global L2 norm is at most ``max_norm``: the result of
    ``nn.utils.clip_grad_norm_`` (same formula and epsilon) in four tensor operations when every gradient is on
    one device (else it defers to it)."""
    with_grad = [p for p in params if p.grad is not None]
    grads = [p.grad for p in with_grad]
    if not grads:
        return
    if len({g.device for g in grads}) > 1 or any(g.is_sparse for g in grads):
        nn.utils.clip_grad_norm_(with_grad, max_norm)
        return
    with torch.no_grad():
        total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))


class Agent(core.Agent):
    """Base class of every PyTorch agent.

    Adds to the core bookkeeping: ``device`` (``None``: ``steprl.config.torch.device``), models moved to their
    device, the distributed process group started when launched by ``torchrun``, mixed precision
    (``cfg["mixed_precision"]``: :meth:`_autocast` and one gradient scaler), gradient clipping
    (``cfg["grad_norm_clip"]``) and the one optimizer step (:meth:`_optimizer_step`).

    ``_not_distributed``: why an algorithm cannot train data-parallel (empty: it can); such an agent refuses to
    start under ``torchrun``.
    """

    _not_distributed: ClassVar[str] = ""

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        if config.torch.is_distributed and self._not_distributed:
            raise RuntimeError(
                f"{type(self).__name__} cannot train data-parallel ({self._not_distributed}); it was launched as rank "
                f"{config.torch.rank} of {config.torch.world_size}: run it as one process (without torchrun), or use "
                "an agent that averages gradients (PPO, A2C, RPO, TRPO, SAC, TD3, DDPG, DQN, DDQN)"
            )
        config.torch.init_distributed()  # no-op unless launched by torchrun with WORLD_SIZE > 1
        self.device: torch.device = config.torch.parse_device(device) if device is not None else config.torch.device
        super().__init__(models, memory, observation_space, action_space, cfg)
        for model in self.models.values():
            if model is not None and hasattr(model, "device"):
                model.to(model.device)
        self._mixed_precision = bool(self.cfg.get("mixed_precision", False))
        self._grad_norm_clip = float(self.cfg.get("grad_norm_clip", 0.0) or 0.0)
        self._scaler = torch.amp.GradScaler(device=self.device.type, enabled=self._mixed_precision)

    def __str__(self) -> str:
        head, *rest = super().__str__().splitlines()
        return "\n".join([head, f"  |-- device: {self.device}", *rest])

    # ------------------------------------------------------------------ core hooks
    def _process_rank(self) -> int:
        return config.torch.rank if config.torch.is_distributed else 0

    def _writer_class(self) -> Any:
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter

    def _save_file(self, data: Mapping[str, Any], path: str) -> None:
        torch_save(data, path)

    def _load_file(self, path: str) -> Any:
        return torch_load(path, map_location=self.device)

    def _rng_state(self) -> dict[str, Any]:
        return _rng_state()

    def _set_rng_state(self, state: Any) -> None:
        _set_rng_state(state)

    def _check_module_state(self, name: str, module: Any, state: Any) -> str | None:
        """Parameter names and shapes of a ``nn.Module``; group sizes of an optimizer."""
        if isinstance(module, nn.Module):
            if not isinstance(state, Mapping):
                return f"expected a state dict, found {type(state).__name__}"
            own = module.state_dict()
            missing = sorted(set(own) - set(state))
            unexpected = sorted(set(state) - set(own))
            if missing or unexpected:
                return f"missing {missing[:5]}, unexpected {unexpected[:5]}"
            for key, tensor in own.items():
                stored = state[key]
                if isinstance(stored, torch.Tensor) and tuple(stored.shape) != tuple(tensor.shape):
                    return f"'{key}' has shape {tuple(stored.shape)}, this agent's has {tuple(tensor.shape)}"
        elif isinstance(module, torch.optim.Optimizer):
            groups = state.get("param_groups") if isinstance(state, Mapping) else None
            if not isinstance(groups, list):
                return "not an optimizer state"
            sizes = [len(g["params"]) for g in module.param_groups]
            stored_sizes = [len(g.get("params", [])) for g in groups]
            if sizes != stored_sizes:
                return f"parameter groups of sizes {stored_sizes}, this agent's optimizer has {sizes}"
        return None

    def _load_module(self, name: str, module: Any, state: Any) -> None:
        super()._load_module(name, module, state)
        if hasattr(module, "eval"):
            module.eval()

    # ------------------------------------------------------------------ learning helpers
    def _autocast(self) -> Any:
        """``torch.autocast`` on the agent's device when ``cfg["mixed_precision"]``, else a no-op context."""
        if not self._mixed_precision:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, enabled=True)

    def _optimizer_step(
        self,
        optimizer: torch.optim.Optimizer,
        loss: torch.Tensor,
        models: Iterable[Any],
        params: list[torch.Tensor],
        grad_norm_clip: float | None = None,
        average: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """``zero_grad → backward → (average the gradients over ranks) → (clip params) → step`` for ``loss``.

        Distributed runs average the gradients of every parameter ``optimizer`` steps, in one all-reduce (``models``
        names the trained models; their parameters are the optimizer's). ``grad_norm_clip`` (default
        ``cfg["grad_norm_clip"]``) lets multi-agent algorithms clip per agent. Returns ``average`` averaged over
        ranks in that same all-reduce (itself when not distributed; ``None`` when not given).

        The caller updates the mixed-precision scaler (``self._scaler.update()``) once per iteration, after every
        optimizer of that iteration has stepped.
        """
        optimizer.zero_grad(set_to_none=True)
        self._scaler.scale(loss).backward()
        if config.torch.is_distributed:
            average = distributed.average_gradients((p for g in optimizer.param_groups for p in g["params"]), average)
        clip = self._grad_norm_clip if grad_norm_clip is None else grad_norm_clip
        if clip > 0:
            self._scaler.unscale_(optimizer)
            clip_grad_norm(params, clip)
        self._scaler.step(optimizer)
        return average

    # ------------------------------------------------------------------ checkpoints
    def migrate(self, path: str, name_map: Mapping[str, str] | None = None, auto_mapping: bool = True, verbose: bool = False) -> bool:
        """Import an rl_games checkpoint into the models that support :meth:`Model.migrate`."""
        if not path.endswith((".pt", ".pth")):
            raise ValueError(f"Cannot migrate '{path}': only rl_games .pt/.pth checkpoints are supported")
        checkpoint = torch_load(path, map_location=self.device)
        state = checkpoint.get("model", checkpoint) if isinstance(checkpoint, Mapping) else checkpoint
        status = True
        for model in self.models.values():
            if model is not None and hasattr(model, "migrate"):
                status = model.migrate(state_dict=state, name_map=dict(name_map or {}), auto_mapping=auto_mapping, verbose=verbose) and status
        self.set_mode("eval")
        return bool(status)
