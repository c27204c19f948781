"""Backend-neutral agent bookkeeping, written once for every backend and for multi-agent algorithms.

What lives here: the experiment directory, write/checkpoint intervals, tracking data and its averaging, episode
statistics, best-checkpoint selection, the TensorBoard writer, the training-step counter (which gives
``random_timesteps`` and ``learning_starts`` one meaning in every agent), the one ``record_transition``, and the
checkpoint layout with its load validation.

What a backend supplies (small hooks): reading/writing a checkpoint file (:meth:`Agent._save_file`,
:meth:`Agent._load_file`), the RNG state (:meth:`Agent._rng_state`, :meth:`Agent._set_rng_state`), loading a
module's state (:meth:`Agent._load_module`), the process rank and the TensorBoard writer class.
"""

from __future__ import annotations

import copy
import datetime
import os
from collections import defaultdict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from steprl import logger
from steprl.backends import ops_for
from steprl.core.checkpoint import CheckpointError
from steprl.core.episodes import EpisodeTracker

__all__ = ["AGENT_EXPERIMENT_DEFAULTS", "META_KEY", "Agent"]

AGENT_EXPERIMENT_DEFAULTS: dict[str, Any] = {
    "directory": "",
    "experiment_name": "",
    "write_interval": "auto",
    "checkpoint_interval": "auto",
    "store_separately": False,
    "wandb": False,
    "wandb_kwargs": {},
}

META_KEY = "_steprl"  # checkpoint entry holding steprl's own metadata (format, agent class, timestep, counters, RNG)
CHECKPOINT_FORMAT = 1
OPTIONAL_MODULES = frozenset({"memory"})  # loads without them (skrl files never hold a memory)
_TRAINING_STATE = ("optimizer", "scheduler")  # modules named like this are not needed to act (inference loads)
_NO_SAMPLES: Mapping[str, Any] = MappingProxyType({})  # shared, so the per-step path allocates nothing for it


def _non_negative(cfg: Mapping[str, Any], key: str, owner: str) -> int:
    value = cfg.get(key, 0) or 0
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner} cfg['{key}'] must be an integer >= 0, got {value!r}") from exc
    if number < 0:
        raise ValueError(f"{owner} cfg['{key}'] must be an integer >= 0, got {value!r}")
    return number


class Agent:
    """Base of every agent, whatever its backend.

    Subclasses (the backend's ``Agent``, then each algorithm) merge their ``*_DEFAULT_CONFIG`` before calling this
    constructor, register what a checkpoint holds in ``checkpoint_modules`` and implement ``act``, ``_update`` and
    the hooks of the learning schedule (:meth:`_train_step`) and of recording (:meth:`_record`,
    :meth:`_transition_samples`, :meth:`_transition_recorded`).

    Counting: ``training_steps`` is the number of training steps this agent has taken (evaluation steps and the
    caller's timestep numbering never change it; it is checkpointed). Random actions are taken while
    ``training_steps < random_timesteps`` (the current step is step ``training_steps``); learning happens once
    ``training_steps > learning_starts`` (counting the current step) — the same comparison in every agent.
    """

    checkpoint_suffix: str = ".pt"  # the file extension of this backend's checkpoint format

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(models, Mapping):
            raise TypeError(f"models must be a dict role -> Model, got {type(models).__name__}")
        self.models: dict[str, Any] = dict(models)
        self.observation_space = observation_space
        self.action_space = action_space
        self.cfg: dict[str, Any] = dict(cfg) if cfg is not None else {}

        if isinstance(memory, (list, tuple)):
            if not memory:
                raise ValueError("memory is an empty list: give a memory, a list of memories or None")
            self.memory = memory[0]
            self.secondary_memories = list(memory[1:])
        else:
            self.memory = memory
            self.secondary_memories = []

        owner = type(self).__name__
        self._random_timesteps = _non_negative(self.cfg, "random_timesteps", owner)
        self._learning_starts = _non_negative(self.cfg, "learning_starts", owner)
        self.training_steps = 0  # training steps taken so far (checkpointed)
        self.timestep = 0  # one past the caller's timestep of the last training step (checkpointed)

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
        self._instantaneous: list[Any] = []

        directory = experiment["directory"] or os.path.join(os.getcwd(), "runs")
        name = experiment["experiment_name"] or "{}_{}".format(
            datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f"), type(self).__name__
        )
        self.experiment_dir = os.path.join(directory, name)
        self._experiment = experiment

    def __str__(self) -> str:
        lines = [f"Agent: {type(self).__name__}"]
        lines += [f"  |-- {key}: {value}" for key, value in self.cfg.items()]
        return "\n".join(lines)

    # ------------------------------------------------------------------ backend hooks
    def _process_rank(self) -> int:
        """This process's rank in a distributed run (0 otherwise); only rank 0 writes logs and checkpoints."""
        return int(os.getenv("RANK", "0"))

    def _writer_class(self) -> Any:
        """The TensorBoard ``SummaryWriter`` class to use (raises ``ImportError`` when none is installed)."""
        from tensorboardX import SummaryWriter  # type: ignore[import-not-found]

        return SummaryWriter

    def _open_writer(self, log_dir: str) -> Any:
        """A TensorBoard writer for ``log_dir`` (``None``, with a warning, when TensorBoard is not installed)."""
        try:
            writer_class = self._writer_class()
        except ImportError:
            logger.warning("TensorBoard is not installed (pip install tensorboard): tracking data is not written")
            return None
        return writer_class(log_dir=log_dir)

    def _save_file(self, data: Mapping[str, Any], path: str) -> None:
        """Write ``data`` (module states and plain values) to ``path`` atomically."""
        raise NotImplementedError(f"{type(self).__name__} has no checkpoint file format")

    def _load_file(self, path: str) -> Any:
        """Read a file written by :meth:`_save_file` safely (never executing stored code)."""
        raise NotImplementedError(f"{type(self).__name__} has no checkpoint file format")

    def _rng_state(self) -> Any:
        """The random-number generators' state to store in checkpoints (``None``: nothing to store)."""
        return None

    def _set_rng_state(self, state: Any) -> None:
        """Restore what :meth:`_rng_state` returned."""

    @staticmethod
    def _state_of(module: Any) -> Any:
        """What a checkpoint stores for ``module``."""
        return module.state_dict() if hasattr(module, "state_dict") else module

    def _load_module(self, name: str, module: Any, state: Any) -> None:
        """Load ``state`` into the checkpoint module ``name``."""
        if not hasattr(module, "load_state_dict"):
            raise NotImplementedError(f"Cannot load '{name}': {type(module).__name__} has no load_state_dict()")
        module.load_state_dict(state)

    # ------------------------------------------------------------------ lifecycle
    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Resolve ``"auto"`` intervals from the trainer's ``timesteps``, open TensorBoard, create directories."""
        trainer_cfg = dict(trainer_cfg or {})
        timesteps = int(trainer_cfg.get("timesteps", 0) or 0)
        if self.write_interval == "auto":
            self.write_interval = int(timesteps / 100)
        if self.checkpoint_interval == "auto":
            self.checkpoint_interval = int(timesteps / 10)
        main_process = self._process_rank() == 0
        if not main_process:
            self.write_interval = 0
            self.checkpoint_interval = 0
        if self._experiment.get("wandb") and main_process:
            self._init_wandb(trainer_cfg)
        if self.write_interval > 0 and self.writer is None:
            self.writer = self._open_writer(self.experiment_dir)
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

    # ------------------------------------------------------------------ counting
    def _exploring(self) -> bool:
        """Whether this step's actions are uniformly random (training, ``training_steps < random_timesteps``)."""
        return self.training and self.training_steps < self._random_timesteps

    def _learning_started(self) -> bool:
        """Whether updates may run at this training step (``training_steps > learning_starts``, this step counted)."""
        return self.training_steps > self._learning_starts

    # ------------------------------------------------------------------ interaction
    def act(self, states: Any, timestep: int, timesteps: int) -> tuple[Any, Any, dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} must implement act()")

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        """Hook called before each environment step (base: nothing)."""

    def record_transition(
        self,
        states: Any,
        actions: Any,
        rewards: Any,
        next_states: Any,
        terminated: Any,
        truncated: Any,
        infos: Any,
        timestep: int,
        timesteps: int,
    ) -> None:
        """Record one step: in training, episode statistics (no host sync) and the transition (rewards shaped by
        ``cfg["rewards_shaper"]``) through :meth:`_record`; in every mode, :meth:`_transition_recorded`."""
        if self.training:
            if self.write_interval > 0:
                signals = self._episode_signals(rewards, terminated, truncated)
                self._episodes.update(*signals)
                self._instantaneous.append(signals[0])
            shaper = self.cfg.get("rewards_shaper")
            if shaper is not None:
                rewards = self._shape_rewards(shaper, rewards, timestep, timesteps)
            self._record(
                states=states, actions=actions, rewards=rewards, next_states=next_states,
                terminated=terminated, truncated=truncated, **self._recorded_infos(infos),
            )  # fmt: skip
        self._transition_recorded(terminated, truncated)

    def _episode_signals(self, rewards: Any, terminated: Any, truncated: Any) -> tuple[Any, Any, Any]:
        """``(N, 1)`` rewards and done flags of the episode statistics (multi-agent: summed over agents, done when
        every agent is done)."""
        return rewards, terminated, truncated

    def _shape_rewards(self, shaper: Any, rewards: Any, timestep: int, timesteps: int) -> Any:
        """Apply ``cfg["rewards_shaper"]`` to this step's rewards (multi-agent: to each agent's)."""
        return shaper(rewards, timestep, timesteps)

    def _recorded_infos(self, infos: Any) -> Mapping[str, Any]:
        """Entries of ``infos`` handed to :meth:`_record` with the transition (none by default; MAPPO takes the
        global states the trainer puts there)."""
        return _NO_SAMPLES

    def _record(self, **transition: Any) -> None:
        """Keep a training transition: written, with :meth:`_transition_samples`, to every memory."""
        if self.memory is None:
            return
        extra = self._transition_samples()
        for memory in [self.memory, *self.secondary_memories]:
            memory.add_samples(**transition, **extra)

    def _transition_samples(self) -> Mapping[str, Any]:
        """Extra arrays stored with each training transition (none by default; recurrent agents add hidden states)."""
        return _NO_SAMPLES

    def _transition_recorded(self, terminated: Any, truncated: Any) -> None:
        """Called after every recorded step, in training and evaluation (per-episode state: hidden states, noise)."""

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Count a training step and run the algorithm's schedule (:meth:`_train_step`); then checkpoint every
        ``checkpoint_interval`` and write tracking data every ``write_interval`` timesteps."""
        if self.training:
            self.training_steps += 1
            self.timestep = timestep + 1
            self._train_step(timestep, timesteps)
        k = timestep + 1
        if k > 1 and self.checkpoint_interval > 0 and not k % self.checkpoint_interval:
            self._update_best()
            self.write_checkpoint(k, timesteps)
        if k > 1 and self.write_interval > 0 and not k % self.write_interval:
            self.write_tracking_data(k, timesteps)

    def _train_step(self, timestep: int, timesteps: int) -> None:
        """The algorithm's learning schedule after a counted training step (base: nothing)."""

    def _update(self, timestep: int, timesteps: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update()")

    # ------------------------------------------------------------------ tracking
    def track_data(self, tag: str, value: Any) -> None:
        """Append a scalar (a float or a 0-d array; arrays are synced only when written).

        Nothing is kept when tracking data is never written (``write_interval`` 0), so memory stays bounded.
        """
        if self.write_interval > 0:
            self.tracking_data[tag].append(value)

    def _collect_episode_stats(self) -> None:
        if self._instantaneous:
            ops = ops_for(self._instantaneous[0])
            rewards = ops.to_numpy(ops.concatenate(self._instantaneous)).astype(np.float64)
            self._instantaneous.clear()
            self.tracking_data["Reward / Instantaneous reward (max)"].append(float(rewards.max()))
            self.tracking_data["Reward / Instantaneous reward (min)"].append(float(rewards.min()))
            self.tracking_data["Reward / Instantaneous reward (mean)"].append(float(rewards.mean()))
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
                key: copy.deepcopy(self._state_of(module))
                for key, module in self._checkpoint_entries().items()
                if module is not None and self._module_name(key) not in OPTIONAL_MODULES
            }

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_dict(self, timestep: int | None) -> dict[str, Any]:
        entries = self._checkpoint_entries().items()
        data = self._nest({key: self._state_of(module) for key, module in entries if module is not None})
        meta: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "agent": type(self).__name__,
            "timestep": int(timestep or 0),
            "training_steps": self.training_steps,
        }
        rng = self._rng_state()
        if rng is not None:
            meta["rng"] = rng
        meta.update(self._checkpoint_meta())
        data[META_KEY] = meta
        return data

    # Checkpoint layout hooks. A single agent's entries are its module names; a multi-agent's are (uid, name) pairs,
    # nested as {uid: {name: state}} in files and named <uid>_<name> in separate files.
    def _checkpoint_entries(self) -> dict[Any, Any]:
        """The checkpoint modules under flat keys."""
        return dict(self.checkpoint_modules)

    def _nest(self, states: Mapping[Any, Any]) -> dict[str, Any]:
        """The file layout of flat-keyed states."""
        return dict(states)

    def _flatten(self, path: str, data: Mapping[str, Any]) -> dict[Any, Any]:
        """Flat-keyed states of a loaded file (without the metadata entry); inverse of :meth:`_nest`."""
        return {name: state for name, state in data.items() if name != META_KEY}

    @staticmethod
    def _module_name(key: Any) -> str:
        """The module name of a flat key (``"optimizer"``, ``"memory"``, ...)."""
        return str(key)

    @staticmethod
    def _file_stem(key: Any) -> str:
        """The file-name stem of a flat key when modules are stored separately."""
        return str(key)

    def _checkpoint_meta(self) -> dict[str, Any]:
        """Extra plain values (ints, floats, arrays) a subclass stores in checkpoints (e.g. an update counter)."""
        return {}

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        """Restore what :meth:`_checkpoint_meta` stored (called by :meth:`load`)."""

    def write_checkpoint(self, timestep: int | None, timesteps: int | None) -> None:
        """Write ``checkpoints/agent_<timestep><suffix>`` (or one file per module) atomically, plus a pending best model."""
        tag = str(timestep if timestep is not None else datetime.datetime.now().strftime("%y-%m-%d_%H-%M-%S-%f"))
        directory = os.path.join(self.experiment_dir, "checkpoints")
        if self.checkpoint_store_separately:
            for key, module in self._checkpoint_entries().items():
                if module is not None:
                    self._save_file(self._state_of(module), os.path.join(directory, f"{self._file_stem(key)}_{tag}{self.checkpoint_suffix}"))
        else:
            self._save_file(self._checkpoint_dict(timestep), os.path.join(directory, f"agent_{tag}{self.checkpoint_suffix}"))
        best = self.checkpoint_best_modules
        if best["modules"] and not best["saved"]:
            if self.checkpoint_store_separately:
                for key, state in best["modules"].items():
                    self._save_file(state, os.path.join(directory, f"best_{self._file_stem(key)}{self.checkpoint_suffix}"))
            else:
                self._save_file(self._nest(best["modules"]), os.path.join(directory, f"best_agent{self.checkpoint_suffix}"))
            best["saved"] = True

    def save(self, path: str) -> None:
        """Save every checkpoint module, the current timestep, the counters and the RNG state to ``path`` atomically."""
        self._save_file(self._checkpoint_dict(self.timestep), path)

    def _check_module_state(self, name: str, module: Any, state: Any) -> str | None:
        """Why ``state`` cannot be loaded into ``module`` (``None``: it can); backends compare shapes here."""
        return None

    def load(self, path: str, resume: bool = False) -> None:
        """Load a checkpoint written by :meth:`save`/:meth:`write_checkpoint` (or by skrl), all or nothing.

        The whole file is validated first (format version, agent class, every module this agent needs, shapes);
        on any mismatch :class:`~steprl.core.checkpoint.CheckpointError` names what is wrong and the agent is left
        untouched. An agent without a memory (inference) needs only what acting needs: optimizers and schedulers
        may be absent, and modules it lacks (e.g. the value model of a policy-only agent) are skipped.
        ``resume=True`` also restores the random-number generators' state, to continue the run exactly; a plain
        load never touches the process's RNG.
        """
        data = self._load_file(path)
        if not isinstance(data, Mapping):
            raise CheckpointError(f"'{path}' is not an agent checkpoint: it holds a {type(data).__name__}, not a dict")
        meta = data.get(META_KEY)
        if meta is not None and not isinstance(meta, Mapping):
            raise CheckpointError(f"'{path}' has a malformed '{META_KEY}' entry ({type(meta).__name__})")
        self._check_meta(path, meta or {})
        entries = self._flatten(path, data)
        loaded = self._modules_to_load(path, entries, resume)
        snapshots = {name: copy.deepcopy(self._state_of(module)) for name, module in loaded.items()}
        applied: list[str] = []
        failed = ""
        try:
            for failed, module in loaded.items():
                self._load_module(self._module_name(failed), module, entries[failed])
                applied.append(failed)
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
            for name in applied:  # roll back: the agent is left as it was
                self._load_module(name, loaded[name], snapshots[name])
            name = self._file_stem(failed)
            raise CheckpointError(f"Checkpoint '{path}': module '{name}' does not match this agent ({exc})") from exc
        if meta:
            self.checkpoint_timestep = self.timestep = int(meta.get("timestep", 0))
            self.training_steps = int(meta.get("training_steps", self.training_steps))
            if resume and meta.get("rng") is not None:
                self._set_rng_state(meta["rng"])
            self._restore_meta(meta)

    def _check_meta(self, path: str, meta: Mapping[str, Any]) -> None:
        version = meta.get("format", CHECKPOINT_FORMAT)
        if not isinstance(version, int) or version > CHECKPOINT_FORMAT:
            raise CheckpointError(
                f"'{path}' uses checkpoint format {version!r}; this steprl reads format {CHECKPOINT_FORMAT} or older"
            )
        stored = meta.get("agent")
        if stored is not None and stored != type(self).__name__:
            raise CheckpointError(f"'{path}' holds a {stored} agent; it cannot be loaded into a {type(self).__name__}")

    def _inference_only(self, resume: bool) -> bool:
        """Whether a load needs only what acting needs (no memory to learn from, not resuming)."""
        return self.memory is None and not resume

    def _modules_to_load(self, path: str, data: Mapping[Any, Any], resume: bool) -> dict[Any, Any]:
        """The agent's modules found in the flat-keyed ``data``, after checking that nothing needed is missing or
        mismatched."""
        names = list(data)
        present = {key: module for key, module in self._checkpoint_entries().items() if module is not None}
        inference = self._inference_only(resume)
        needed = [
            key for key in present
            if (name := self._module_name(key)) not in OPTIONAL_MODULES
            and not (inference and name.endswith(_TRAINING_STATE))
        ]  # fmt: skip
        missing = [self._file_stem(key) for key in needed if key not in data]
        if missing:
            found = sorted(self._file_stem(key) for key in names) or "nothing"
            raise CheckpointError(
                f"'{path}' cannot restore this {type(self).__name__} agent: it lacks {sorted(missing)} (it holds {found})"
            )
        for key in names:
            if key not in present:
                logger.info(f"Checkpoint '{path}': '{self._file_stem(key)}' is not used by this agent (skipped)")
        loaded = {key: present[key] for key in names if key in present}
        problems = [
            f"'{self._file_stem(k)}': {why}"
            for k, m in loaded.items()
            if (why := self._check_module_state(self._module_name(k), m, data[k]))
        ]
        if problems:
            raise CheckpointError(f"'{path}' does not match this {type(self).__name__} agent: " + "; ".join(problems))
        return loaded
