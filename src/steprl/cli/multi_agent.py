"""Multi-agent environments and agents of the ``steprl`` command (``--env mpe2:simple_spread_v3``, ``--env vmas:navigation``).

Environment ids:

- ``<module>:<name>`` where ``<module>`` is a PettingZoo environment package (``mpe2``, ``pettingzoo.sisl``, ...):
  ``<module>.<name>.parallel_env(**env_kwargs)``; several copies are stepped as one batch;
- ``vmas:<scenario>``: ``vmas.make_env(scenario, num_envs=N, device=..., **env_kwargs)``, vectorized on the device.

The IPPO/MAPPO presets' ``[<agent>.network]`` table takes ``share_parameters`` (one policy and one value for all
agents, with the agent id appended to their inputs) besides the MLP keys.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from steprl.cli.checks import CLIError, exception_message

__all__ = ["build_multi_agent", "is_multi_agent_env_id", "make_multi_agent_env", "multi_agent_spaces"]

MULTI_AGENT_ENV_PREFIXES = ("vmas:", "mpe2:", "pettingzoo.")


def is_multi_agent_env_id(env_id: str) -> bool:
    """Whether ``env_id`` names a PettingZoo or VMAS environment."""
    return env_id.startswith(MULTI_AGENT_ENV_PREFIXES)


def _parallel_env(env_id: str, env_kwargs: Mapping[str, Any]) -> Any:
    module_name, name = env_id.split(":", 1)
    try:
        module = importlib.import_module(f"{module_name}.{name}")
    except ImportError as exc:
        raise CLIError(f"--env {env_id}: cannot import {module_name}.{name} ({exception_message(exc)})") from exc
    if not hasattr(module, "parallel_env"):
        raise CLIError(f"--env {env_id}: {module_name}.{name} has no parallel_env (PettingZoo parallel API)")
    return module.parallel_env(**dict(env_kwargs))


def make_multi_agent_env(
    env_id: str, num_envs: int, env_kwargs: Mapping[str, Any], device: Any = None, backend: str = "torch"
) -> Any:
    """The environment wrapped for ``backend``: ``num_envs`` PettingZoo copies stepped as one batch, or VMAS with
    ``num_envs`` (torch only: VMAS simulates with torch tensors)."""
    from steprl import config

    wrap_env = importlib.import_module(f"steprl.envs.wrappers.{backend}").wrap_env
    if env_id.startswith("vmas:"):
        if backend != "torch":
            raise CLIError(
                f"--env {env_id}: VMAS is torch-native (its state lives in torch tensors); train it with "
                "--backend torch, or use a PettingZoo environment (e.g. mpe2:simple_spread_v3) with --backend jax"
            )
        import vmas

        scenario = env_id.split(":", 1)[1]
        device = str(device or config.torch.device)
        try:
            env = vmas.make_env(scenario, num_envs=num_envs, device=device, **dict(env_kwargs))
        except Exception as exc:  # noqa: BLE001 (any failure to build the scenario is the user's input)
            raise CLIError(
                f"--env {env_id}: cannot make VMAS scenario '{scenario}' ({exception_message(exc)})"
            ) from exc
        return wrap_env(env, verbose=False)
    if ":" not in env_id:
        raise CLIError(
            f"--env {env_id}: write a PettingZoo environment as <package>:<name>, e.g. mpe2:simple_spread_v3"
        )
    copies = [_parallel_env(env_id, env_kwargs) for _ in range(num_envs)]
    return wrap_env(copies if num_envs > 1 else copies[0], verbose=False)


def multi_agent_spaces(env: Any) -> tuple[Any, Any]:
    """The first agent's observation and action spaces (what the registry's space checks look at)."""
    uid = env.possible_agents[0]
    return env.observation_space(uid), env.action_space(uid)


def build_multi_agent(
    preset: Any, env: Any, run_dir: str, vector_steps: int, cfg: dict[str, Any], backend: str = "torch"
) -> Any:
    """The preset's IPPO/MAPPO of ``backend`` on ``env`` with MLP models (shared when ``network.share_parameters``)
    and one rollout memory per agent; ``cfg`` is the resolved agent configuration."""
    from steprl.cli.registry import agents_for, import_path

    entry = agents_for(backend)[preset.agent]
    RandomMemory = import_path(f"steprl.memories.{backend}:RandomMemory")  # noqa: N806 - a class
    build_multi_agent_models = import_path(entry.models)
    network = dict(preset.network)
    share = bool(network.pop("share_parameters", False))
    mappo = preset.agent == "mappo"
    uids = list(env.possible_agents)
    cfg["append_agent_id"] = share
    cfg["experiment"] = {
        "directory": os.path.dirname(run_dir),
        "experiment_name": os.path.basename(run_dir),
        "write_interval": max(1, vector_steps // 100),
        "checkpoint_interval": 0,
    }
    if mappo and cfg.get("shared_state_preprocessor") is not None:
        cfg["shared_state_preprocessor_kwargs"] = {
            "size": env.state_space(uids[0]),
            **cfg.get("shared_state_preprocessor_kwargs", {}),
        }
    rollouts = int(cfg.get("rollouts", entry.default_config()["rollouts"]))
    memories = {uid: RandomMemory(memory_size=rollouts, num_envs=env.num_envs, device=env.device) for uid in uids}
    value_spaces = env.state_spaces if mappo else None
    models = build_multi_agent_models(
        uids, env.observation_spaces, env.action_spaces, env.device, network, value_spaces, share_parameters=share
    )
    extra = {"shared_observation_spaces": env.state_spaces} if mappo else {}
    return entry.agent_class()(
        possible_agents=uids,
        models=models,
        memories=memories,
        observation_spaces=env.observation_spaces,
        action_spaces=env.action_spaces,
        device=env.device,
        cfg=cfg,
        **extra,
    )
