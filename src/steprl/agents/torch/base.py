"""The PyTorch ``Agent`` base class: bookkeeping shared by every algorithm (tracking, checkpoints, modes)."""

from __future__ import annotations

import copy
import datetime
import os
import random
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from steprl import config, logger
from steprl.core.checkpoint import CheckpointError, torch_load, torch_save
from steprl.core.episodes import EpisodeTracker

AGENT_EXPERIMENT_DEFAULTS: dict[str, Any] = {
    "directory": "",
    "experiment_name": "",
    "write_interval": "auto",
    "checkpoint_interval": "auto",
    "store_separately": False,
    "wandb": False,
    "wandb_kwargs": {},
}

_META_KEY = "_steprl"


def _empty_preprocessor(_input: Any, *args: Any, **kwargs: Any) -> Any:
    """Identity preprocessor (module-level so agents stay picklable)."""
    return _input


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


class Agent:
    """Base class of every PyTorch agent (API.md §3).

    Subclasses merge their ``*_DEFAULT_CONFIG`` before calling this constructor, register what a checkpoint
    holds in ``checkpoint_modules`` and implement ``act``, ``record_transition`` (calling this class's first),
    ``post_interaction`` (learning first, then this class's bookkeeping) and ``_update``.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(models, Mapping):
            raise TypeError(f"models must be a dict role -> Model, got {type(models).__name__}")
        self.models: dict[str, Any] = dict(models)
        self.observation_space = observation_space
        self.action_space = action_space
        self.cfg: dict[str, Any] = dict(cfg) if cfg is not None else {}
        config.torch.init_distributed()  # no-op unless launched by torchrun with WORLD_SIZE > 1
        self.device: torch.device = config.torch.parse_device(device) if device is not None else config.torch.device

        if isinstance(memory, (list, tuple)):
            if not memory:
                raise ValueError("memory is an empty list: give a memory, a list of memories or None")
            self.memory = memory[0]
            self.secondary_memories = list(memory[1:])
        else:
            self.memory = memory
            self.secondary_memories = []

        for model in self.models.values():
            if model is not None and hasattr(model, "device"):
                model.to(model.device)

        self.tracking_data: defaultdict[str, list[Any]] = defaultdict(list)
        experiment = {**AGENT_EXPERIMENT_DEFAULTS, **dict(self.cfg.get("experiment", {}) or {})}
        self.write_interval: Any = experiment["write_interval"]
        self.checkpoint_interval: Any = experiment["checkpoint_interval"]
        self.checkpoint_store_separately: bool = bool(experiment["store_separately"])
        self.checkpoint_modules: dict[str, Any] = {}
        self.checkpoint_best_modules: dict[str, Any] = {"timestep": 0, "reward": -(2**31), "saved": False, "modules": {}}
        self.training = True
        self.writer: Any = None
        self.checkpoint_timestep = 0  # timestep stored in the last loaded checkpoint (0 if none)
        self._episodes = EpisodeTracker()
        self._instantaneous: list[torch.Tensor] = []

        directory = experiment["directory"] or os.path.join(os.getcwd(), "runs")
        name = experiment["experiment_name"] or "{}_{}".format(
            datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f"), type(self).__name__
        )
        self.experiment_dir = os.path.join(directory, name)
        self._experiment = experiment

    def __str__(self) -> str:
        lines = [f"Agent: {type(self).__name__}", f"  |-- device: {self.device}"]
        lines += [f"  |-- {key}: {value}" for key, value in self.cfg.items()]
        return "\n".join(lines)

    def _empty_preprocessor(self, _input: Any, *args: Any, **kwargs: Any) -> Any:
        return _input

    # ------------------------------------------------------------------ lifecycle
    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Resolve ``"auto"`` intervals from the trainer's ``timesteps``, open TensorBoard, create directories."""
        trainer_cfg = dict(trainer_cfg or {})
        timesteps = int(trainer_cfg.get("timesteps", 0) or 0)
        if self.write_interval == "auto":
            self.write_interval = int(timesteps / 100)
        if self.checkpoint_interval == "auto":
            self.checkpoint_interval = int(timesteps / 10)
        if config.torch.is_distributed and config.torch.rank:
            self.write_interval = 0
            self.checkpoint_interval = 0
        if self._experiment.get("wandb") and not (config.torch.is_distributed and config.torch.rank):
            self._init_wandb(trainer_cfg)
        if self.write_interval > 0 and self.writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(log_dir=self.experiment_dir)
            except ImportError:
                logger.warning("TensorBoard is not installed (pip install tensorboard): tracking data is not written")
        if self.checkpoint_interval > 0:
            os.makedirs(os.path.join(self.experiment_dir, "checkpoints"), exist_ok=True)

    def _init_wandb(self, trainer_cfg: Mapping[str, Any]) -> None:
        try:
            import wandb
        except ImportError as exc:
            raise ImportError("cfg['experiment']['wandb'] is True but wandb is not installed (pip install wandb)") from exc
        kwargs = copy.deepcopy(dict(self._experiment.get("wandb_kwargs", {})))
        kwargs.setdefault("name", os.path.basename(self.experiment_dir))
        kwargs.setdefault("sync_tensorboard", True)
        kwargs.setdefault("config", {})
        kwargs["config"].update({"agent": {k: str(v) for k, v in self.cfg.items()}, "trainer": dict(trainer_cfg)})
        wandb.init(**kwargs)

    def set_running_mode(self, mode: str) -> None:
        """``"train"`` or ``"eval"``: whether the agent records samples and learns."""
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        self.training = mode == "train"

    def set_mode(self, mode: str) -> None:
        """Set every model to ``"train"`` or ``"eval"`` mode (dropout, batch norm)."""
        for model in self.models.values():
            if model is not None:
                model.set_mode(mode)

    # ------------------------------------------------------------------ interaction
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} must implement act()")

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        """Hook called before each environment step (base: nothing)."""

    def record_transition(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_states: torch.Tensor,
        terminated: torch.Tensor,
        truncated: torch.Tensor,
        infos: Any,
        timestep: int,
        timesteps: int,
    ) -> None:
        """Track episode statistics of training steps (no host sync; synced at each write)."""
        if self.write_interval > 0 and self.training:
            self._episodes.update(rewards, terminated, truncated)
            self._instantaneous.append(rewards.detach())

    def _store_transition(self, timestep: int, timesteps: int, rewards: torch.Tensor, **tensors: torch.Tensor) -> None:
        """Write a training transition to the memory and every secondary memory (``cfg["rewards_shaper"]`` first)."""
        shaper = self.cfg.get("rewards_shaper")
        if shaper is not None:
            rewards = shaper(rewards, timestep, timesteps)
        for memory in [self.memory, *self.secondary_memories]:
            memory.add_samples(rewards=rewards, **tensors)

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Bookkeeping: checkpoint every ``checkpoint_interval`` and write tracking data every ``write_interval``."""
        k = timestep + 1
        if k > 1 and self.checkpoint_interval > 0 and not k % self.checkpoint_interval:
            self._update_best()
            self.write_checkpoint(k, timesteps)
        if k > 1 and self.write_interval > 0 and not k % self.write_interval:
            self.write_tracking_data(k, timesteps)

    def _update(self, timestep: int, timesteps: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update()")

    # ------------------------------------------------------------------ tracking
    def track_data(self, tag: str, value: Any) -> None:
        """Append a scalar (a float or a 0-d tensor; tensors are synced only when written)."""
        self.tracking_data[tag].append(value)

    def _collect_episode_stats(self) -> None:
        if self._instantaneous:
            rewards = torch.cat(self._instantaneous).float()
            self._instantaneous.clear()
            self.tracking_data["Reward / Instantaneous reward (max)"].append(rewards.max())
            self.tracking_data["Reward / Instantaneous reward (min)"].append(rewards.min())
            self.tracking_data["Reward / Instantaneous reward (mean)"].append(rewards.mean())
        new = self._episodes.harvest()
        if new:
            returns = np.array(self._episodes.returns)
            lengths = np.array(list(self._episodes.lengths))
            for name, values in (("Reward / Total reward", returns), ("Episode / Total timesteps", lengths)):
                self.tracking_data[f"{name} (max)"].append(float(values.max()))
                self.tracking_data[f"{name} (min)"].append(float(values.min()))
                self.tracking_data[f"{name} (mean)"].append(float(values.mean()))

    def write_tracking_data(self, timestep: int, timesteps: int) -> None:
        """Write one scalar per tag (max/min/mean per the tag's suffix) and clear the buffers."""
        self._collect_episode_stats()
        if self.writer is not None:
            for tag, values in self.tracking_data.items():
                if not values:
                    continue
                array = np.array([float(v) for v in values])
                if tag.endswith("(min)"):
                    value = array.min()
                elif tag.endswith("(max)"):
                    value = array.max()
                else:
                    value = array.mean()
                self.writer.add_scalar(tag, value, timestep)
        self.tracking_data.clear()

    def _update_best(self) -> None:
        self._collect_episode_stats()
        rewards = self.tracking_data.get("Reward / Total reward (mean)")
        if not rewards:
            return
        reward = float(np.mean([float(v) for v in rewards]))
        if reward > self.checkpoint_best_modules["reward"]:
            self.checkpoint_best_modules["reward"] = reward
            self.checkpoint_best_modules["saved"] = False
            self.checkpoint_best_modules["modules"] = {
                name: copy.deepcopy(self._state_of(module)) for name, module in self.checkpoint_modules.items()
            }

    # ------------------------------------------------------------------ checkpoints
    @staticmethod
    def _state_of(module: Any) -> Any:
        return module.state_dict() if hasattr(module, "state_dict") else module

    def _checkpoint_dict(self, timestep: int | None) -> dict[str, Any]:
        data = {name: self._state_of(module) for name, module in self.checkpoint_modules.items()}
        meta = {"format": 1, "agent": type(self).__name__, "timestep": int(timestep or 0), "rng": _rng_state()}
        meta.update(self._checkpoint_meta())
        data[_META_KEY] = meta
        return data

    def _checkpoint_meta(self) -> dict[str, Any]:
        """Extra plain values (ints, floats, tensors) a subclass stores in checkpoints (e.g. training-step counters)."""
        return {}

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        """Restore what :meth:`_checkpoint_meta` stored (called by :meth:`load`)."""

    def write_checkpoint(self, timestep: int | None, timesteps: int | None) -> None:
        """Write ``checkpoints/agent_<timestep>.pt`` (or one file per module) atomically, plus a pending best model."""
        tag = str(timestep if timestep is not None else datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f"))
        directory = os.path.join(self.experiment_dir, "checkpoints")
        if self.checkpoint_store_separately:
            for name, module in self.checkpoint_modules.items():
                torch_save(self._state_of(module), os.path.join(directory, f"{name}_{tag}.pt"))
        else:
            torch_save(self._checkpoint_dict(timestep), os.path.join(directory, f"agent_{tag}.pt"))
        best = self.checkpoint_best_modules
        if best["modules"] and not best["saved"]:
            if self.checkpoint_store_separately:
                for name, state in best["modules"].items():
                    torch_save(state, os.path.join(directory, f"best_{name}.pt"))
            else:
                torch_save(dict(best["modules"]), os.path.join(directory, "best_agent.pt"))
            best["saved"] = True

    def save(self, path: str) -> None:
        """Save every checkpoint module (plus timestep and RNG state) to ``path`` atomically."""
        torch_save(self._checkpoint_dict(self.checkpoint_timestep), path)

    def load(self, path: str) -> None:
        """Load a checkpoint written by :meth:`save`/:meth:`write_checkpoint` (or by skrl) safely.

        Raises :class:`~steprl.core.checkpoint.CheckpointError` for corrupt, truncated or foreign files.
        """
        data = torch_load(path, map_location=self.device)
        if not isinstance(data, Mapping):
            raise CheckpointError(f"'{path}' is not an agent checkpoint: it holds a {type(data).__name__}, not a dict")
        names = [k for k in data if k != _META_KEY]
        known = [k for k in names if k in self.checkpoint_modules]
        if names and not known:
            raise CheckpointError(
                f"'{path}' does not hold any module of this {type(self).__name__} agent: it has {sorted(names)}, "
                f"expected {sorted(self.checkpoint_modules)}"
            )
        for name in names:
            if name not in self.checkpoint_modules:
                logger.warning(f"Checkpoint '{path}': unknown module '{name}' ignored")
        for name in known:
            module = self.checkpoint_modules[name]
            if not hasattr(module, "load_state_dict"):
                raise NotImplementedError(f"Cannot load '{name}': {type(module).__name__} has no load_state_dict()")
            try:
                module.load_state_dict(data[name])
            except (RuntimeError, ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(f"Checkpoint '{path}': module '{name}' does not match this agent ({exc})") from exc
            if hasattr(module, "eval"):
                module.eval()
        meta = data.get(_META_KEY)
        if isinstance(meta, Mapping):
            self.checkpoint_timestep = int(meta.get("timestep", 0))
            if "rng" in meta:
                _set_rng_state(meta["rng"])
            self._restore_meta(meta)

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
