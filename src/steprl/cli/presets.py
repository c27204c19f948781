"""Training presets of the ``steprl`` command: one TOML file per environment, one table per agent.

A preset file ``steprl/cli/presets/<env id>.toml`` (``/`` in the id written as ``__``) holds, per agent name::

    [ppo]
    timesteps = 100_000     # environment steps in total (over all sub-environments)
    num_envs = 8            # sub-environments of the training vector env
    eval_every = 10_000     # environment steps between evaluations
    eval_episodes = 10      # optional: episodes per evaluation (default 10; --eval-episodes overrides it)

    [ppo.network]           # optional: passed to the agent's model builder (see steprl.cli.registry)
    hidden = [64, 64]
    activation = "tanh"

    [ppo.agent]             # keys of the agent's DEFAULT_CONFIG; classes by name (see CLASS_NAMES)
    rollouts = 32
    learning_rate_scheduler = "KLAdaptiveLR"

Off-policy agents also take ``memory_size`` (replay capacity in vector steps, default 100_000). An optional
``[<agent>.env_kwargs]`` table holds keyword arguments of ``gymnasium.make`` for the training and evaluation
environments (e.g. ``is_slippery = false`` for FrozenLake-v1).
Noises (TD3/DDPG ``exploration.noise``, TD3 ``smooth_regularization_noise``) are inline tables naming a class of
``NOISE_NAMES`` and its arguments: ``noise = { class = "GaussianNoise", mean = 0.0, std = 0.1 }``.
An environment without its own file uses ``default.toml`` (a generic preset; the command logs a warning).

Validation is strict: a table named after no agent, an unknown key of an agent table, of its ``network`` table
(the keys its model builder reads) or of its ``agent`` table (at any depth of the agent's DEFAULT_CONFIG) is a
:class:`PresetError` naming the file and the closest valid key.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from steprl.cli.jax_schedules import TORCH_SCHEDULERS, jax_schedule_factory
from steprl.cli.registry import ALL_AGENTS, import_path
from steprl.core.cfg import closest_key

__all__ = [
    "CLASS_NAMES",
    "DEFAULT_EVAL_EPISODES",
    "DEFAULT_PRESET",
    "NOISE_NAMES",
    "Preset",
    "PresetError",
    "available_agents",
    "available_envs",
    "load_preset",
    "parse_preset",
    "preset_source",
    "read_preset_file",
    "resolve_agent_cfg",
]

DEFAULT_PRESET = "default"
# cfg key -> {name in a preset: "module:Class"}
CLASS_NAMES: dict[str, dict[str, str]] = {
    "learning_rate_scheduler": {
        "KLAdaptiveLR": "steprl.resources.schedulers.torch:KLAdaptiveLR",
        "LinearLR": "torch.optim.lr_scheduler:LinearLR",
        "StepLR": "torch.optim.lr_scheduler:StepLR",
        "ExponentialLR": "torch.optim.lr_scheduler:ExponentialLR",
    },
    "state_preprocessor": {"RunningStandardScaler": "steprl.resources.preprocessors.torch:RunningStandardScaler"},
    "value_preprocessor": {"RunningStandardScaler": "steprl.resources.preprocessors.torch:RunningStandardScaler"},
    "shared_state_preprocessor": {
        "RunningStandardScaler": "steprl.resources.preprocessors.torch:RunningStandardScaler"
    },
}
# noise classes (TD3/DDPG ``exploration.noise`` and ``smooth_regularization_noise``): a preset writes a noise as an
# inline table naming the class and its keyword arguments, e.g. ``noise = { class = "GaussianNoise", std = 0.1 }``;
# resolve_agent_cfg instantiates it (on the default device), so the agent receives a noise object as usual
NOISE_NAMES: dict[str, str] = {
    "GaussianNoise": "steprl.resources.noises.torch:GaussianNoise",
    "OrnsteinUhlenbeckNoise": "steprl.resources.noises.torch:OrnsteinUhlenbeckNoise",
}
_NOISE_KEYS: tuple[tuple[str, ...], ...] = (("exploration", "noise"), ("smooth_regularization_noise",))
_REQUIRED = ("timesteps", "num_envs", "eval_every", "agent")
_OPTIONAL = ("eval_episodes", "network", "memory_size", "env_kwargs")
_POSITIVE = ("timesteps", "num_envs", "eval_every", "eval_episodes", "memory_size")
_TABLES = ("agent", "network", "env_kwargs")
DEFAULT_MEMORY_SIZE = 100_000
DEFAULT_EVAL_EPISODES = 10
_NOT_IN_PRESETS = ("experiment", "rewards_shaper", "checkpoint_memory")  # set by the command / not expressible in TOML


class PresetError(ValueError):
    """A preset is missing, malformed or names something unknown."""


@dataclass(frozen=True)
class Preset:
    """One agent's table of one preset file (``agent_cfg`` still holds class names, see :func:`resolve_agent_cfg`;
    ``table`` is the table as read, which a run stores in ``run.json`` so that ``--resume`` rebuilds the same agent)."""

    env_id: str
    agent: str
    timesteps: int
    num_envs: int
    eval_every: int
    network: dict[str, Any]
    agent_cfg: dict[str, Any]
    source: str
    memory_size: int = DEFAULT_MEMORY_SIZE
    eval_episodes: int = DEFAULT_EVAL_EPISODES
    is_default: bool = False
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    agents_in_file: tuple[str, ...] = field(default=())
    table: dict[str, Any] = field(default_factory=dict)


def _presets_dir() -> Any:
    return resources.files("steprl.cli") / "presets"


def _file_name(env_id: str) -> str:
    return env_id.replace("/", "__").replace(":", "--") + ".toml"  # file names portable to every OS


def available_envs() -> list[str]:
    """Environment ids that have their own preset file."""
    names = [p.name for p in _presets_dir().iterdir() if p.name.endswith(".toml")]
    return sorted(
        n[: -len(".toml")].replace("__", "/").replace("--", ":") for n in names if n != f"{DEFAULT_PRESET}.toml"
    )


def _read(env_id: str) -> tuple[dict[str, Any], str, bool]:
    """The parsed TOML of ``env_id``'s preset (or of the default one), its source name and whether it is the default."""
    path = _presets_dir() / _file_name(env_id)
    is_default = not path.is_file()
    if is_default:
        path = _presets_dir() / f"{DEFAULT_PRESET}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path), is_default
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"Preset file {path} is not valid TOML: {exc}") from exc


def read_preset_file(path: str) -> dict[str, Any]:
    """The tables of the preset file at ``path`` (``steprl train --preset-file``), checked like a packaged one."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise PresetError(f"--preset-file {path} cannot be read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"Preset file {path} is not valid TOML: {exc}") from exc
    _check_tables(data, path)
    return data


def preset_source(env_id: str) -> str:
    """The preset file used for ``env_id`` (its own, or the default preset)."""
    return _read(env_id)[1]


def available_agents(env_id: str) -> list[str]:
    """Agent tables of ``env_id``'s preset (of the default preset when it has none)."""
    data, source, _ = _read(env_id)
    _check_tables(data, source)
    return sorted(data)


def _unknown_key(where: str, what: str, key: str, valid: list[str] | tuple[str, ...]) -> PresetError:
    """A :class:`PresetError` for ``key``, naming the closest valid key and every valid one."""
    hint = closest_key(str(key), list(valid))
    return PresetError(
        f"{where}: unknown {what} '{key}'."
        + (f" Did you mean '{hint}'?" if hint else "")
        + f" Valid keys: {', '.join(valid)}"
    )


def _check_tables(data: dict[str, Any], source: str) -> None:
    """Every top-level table of a preset file is named after an agent."""
    for name, table in data.items():
        if name not in ALL_AGENTS:
            hint = closest_key(name, list(ALL_AGENTS))
            raise PresetError(
                f"{source}: table [{name}]: agent '{name}' is not supported by steprl."
                + (f" Did you mean '{hint}'?" if hint else "")
                + f" Supported: {', '.join(ALL_AGENTS)}"
            )
        if not isinstance(table, dict):
            raise PresetError(f"{source}: '{name}' must be a table ([{name}]), got {table!r}")


def _default_config(agent: str) -> dict[str, Any]:
    return ALL_AGENTS[agent].default_config()


def _check_agent_cfg(agent: str, cfg: dict[str, Any], where: str) -> None:
    defaults = _default_config(agent)
    valid = [k for k in defaults if k not in _NOT_IN_PRESETS]
    for key, value in cfg.items():
        if key in _NOT_IN_PRESETS:
            raise PresetError(f"{where}: '{key}' cannot be set in a preset (the steprl command sets it)")
        if key not in valid:
            raise _unknown_key(where, f"{agent.upper()} key", key, valid)
        names = CLASS_NAMES.get(key)
        if names is not None and value is not None and value not in names:
            raise PresetError(f"{where}: unknown {key} {value!r}; known names: {', '.join(names)}")
        _check_nested(agent, defaults[key], value, f"{where}.{key}")
    for path in _NOISE_KEYS:
        _check_noise_table(_get_path(cfg, path), f"{where}.{'.'.join(path)}")


def _check_nested(agent: str, default: Any, value: Any, where: str) -> None:
    """Keys of a sub-table whose default is a non-empty dict (e.g. ``exploration``), as the agent merges them."""
    if not isinstance(default, dict) or not default:
        return  # a plain value, or a free-form ``*_kwargs`` table
    if not isinstance(value, dict):
        raise PresetError(f"{where}: must be a table of {', '.join(default)}, got {value!r}")
    for key, item in value.items():
        if key not in default:
            raise _unknown_key(where, f"{agent.upper()} {where.rsplit('.', 1)[-1]} key", key, list(default))
        _check_nested(agent, default[key], item, f"{where}.{key}")


def _get_path(cfg: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = cfg
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _check_noise_table(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or value.get("class") not in NOISE_NAMES:
        raise PresetError(
            f"{where}: a noise is written as a table naming its class and arguments, e.g. "
            f'{{ class = "GaussianNoise", mean = 0.0, std = 0.1 }}; known classes: {", ".join(NOISE_NAMES)}; got {value!r}'
        )


def parse_preset(
    data: dict[str, Any], env_id: str, agent: str, source: str = "<preset>", is_default: bool = False
) -> Preset:
    """Validate the ``agent`` table of parsed preset ``data`` and return it as a :class:`Preset`."""
    _check_tables(data, source)
    if agent not in data:
        raise PresetError(
            f"The preset for {env_id} ({source}) has no '{agent}' table; available agents: {', '.join(sorted(data)) or 'none'}"
        )
    table = data[agent]
    where = f"{source} [{agent}]"
    missing = [k for k in _REQUIRED if k not in table]
    if missing:
        raise PresetError(f"{where}: missing key(s) {', '.join(missing)} (required: {', '.join(_REQUIRED)})")
    for key in table:
        if key not in _REQUIRED + _OPTIONAL:
            raise _unknown_key(where, "key", key, _REQUIRED + _OPTIONAL)
    for key in _POSITIVE:
        if key in table and (not isinstance(table[key], int) or isinstance(table[key], bool) or table[key] < 1):
            raise PresetError(f"{where}: '{key}' must be a positive integer, got {table[key]!r}")
    for key in _TABLES:
        if key in table and not isinstance(table[key], dict):
            raise PresetError(f"{where}: '{key}' must be a table ([{agent}.{key}]), got {table[key]!r}")
    network = dict(table.get("network", {}))
    env_kwargs = table.get("env_kwargs", {})
    network_keys = ALL_AGENTS[agent].valid_network_keys()
    for key in network:
        if key not in network_keys:
            raise _unknown_key(f"{where}.network", f"{agent.upper()} network key", key, network_keys)
    if "hidden" in network and (not isinstance(network["hidden"], list) or not network["hidden"]):
        raise PresetError(f"{where}.network: 'hidden' must be a non-empty list of layer sizes")
    _check_agent_cfg(agent, dict(table["agent"]), f"{where}.agent")
    return Preset(
        env_id=env_id,
        agent=agent,
        timesteps=table["timesteps"],
        num_envs=table["num_envs"],
        eval_every=table["eval_every"],
        network=network,
        agent_cfg=dict(table["agent"]),
        source=source,
        memory_size=int(table.get("memory_size", DEFAULT_MEMORY_SIZE)),
        eval_episodes=int(table.get("eval_episodes", DEFAULT_EVAL_EPISODES)),
        is_default=is_default,
        env_kwargs=dict(env_kwargs),
        agents_in_file=tuple(sorted(data)),
        table=copy.deepcopy(table),
    )


def load_preset(env_id: str, agent: str) -> Preset:
    """The validated ``agent`` preset of ``env_id`` (the generic default preset when the env has no file)."""
    data, source, is_default = _read(env_id)
    return parse_preset(data, env_id, agent, source, is_default)


def _import(path: str, backend: str = "torch") -> Any:
    """The class at ``path`` (a torch path; for ``backend="jax"`` steprl's JAX class of the same name)."""
    if backend == "jax":
        if not path.startswith("steprl."):
            raise ValueError(f"{path.replace(':', '.')} is a PyTorch class: it is not available with --backend jax")
        path = path.replace(".torch:", ".jax:")
    return import_path(path)


def resolve_agent_cfg(preset: Preset, observation_space: Any, backend: str = "torch") -> dict[str, Any]:
    """The preset's agent cfg with class names replaced by the ``backend``'s classes and preprocessor sizes filled
    in."""
    cfg = {key: (dict(value) if isinstance(value, dict) else value) for key, value in preset.agent_cfg.items()}
    for key, names in CLASS_NAMES.items():
        if cfg.get(key) is not None:
            if backend == "jax" and cfg[key] in TORCH_SCHEDULERS:  # the same rates as an optax-style schedule
                defaults = _default_config(preset.agent)
                rate = cfg.get("learning_rate", defaults.get("learning_rate", 1))
                # optimizer steps per torch scheduler step: a rollout agent's minibatches, a replay agent's update
                per_step = "mini_batches" if "mini_batches" in defaults else "gradient_steps"
                batches = cfg.get(per_step, defaults.get(per_step, 1))
                cfg[key] = jax_schedule_factory(cfg[key], float(rate), int(batches))
            else:
                cfg[key] = _import(names[cfg[key]], backend)
    if cfg.get("state_preprocessor") is not None:
        cfg["state_preprocessor_kwargs"] = {"size": observation_space, **cfg.get("state_preprocessor_kwargs", {})}
    if cfg.get("value_preprocessor") is not None:
        cfg["value_preprocessor_kwargs"] = {"size": 1, **cfg.get("value_preprocessor_kwargs", {})}
    for *parents, key in _NOISE_KEYS:
        table: Any = cfg
        for parent in parents:
            table = table.get(parent) if isinstance(table, dict) else None
        if isinstance(table, dict) and isinstance(table.get(key), dict):
            kwargs = dict(table[key])
            table[key] = _import(NOISE_NAMES[kwargs.pop("class")], backend)(**kwargs)
    return cfg
