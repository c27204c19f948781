"""The worker of the multi-process JAX tests (run by ``python -m steprl.utils.distributed.jax``) and the cases it
shares with the test that checks its results.

``python jax_distributed.py OUT_DIR`` writes ``OUT_DIR/rank<R>.json`` with:

- ``averaging``: one SGD step through ``compile_update`` on a rank-specific batch (the parameters after the step,
  the scaler statistics merged over the processes), and whether a reduction outside ``compile_update`` raised;
- ``ppo``: a short JAX PPO run on CartPole (both preprocessors, KL-adaptive learning rate), experiment directory
  ``OUT_DIR/runs/rank<R>``: the parameters before and after the agent's construction and the final parameters,
  optimizer and scaler states.

Run without the launcher it is one process (rank 0) and does the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

LEARNING_RATE = 0.5
FEATURES = 3
TIMESTEPS = 32  # 4 updates of 8-step rollouts


def rank_batch(rank: int, size: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Rank ``rank``'s fixed regression batch ``(inputs, targets)`` (different on every rank)."""
    generator = np.random.default_rng(1000 + rank)
    return generator.normal(size=(size, FEATURES)).astype(np.float32), generator.normal(size=(size,)).astype(np.float32)


def initial_weights(rank: int) -> np.ndarray:
    """The weights each rank starts from (different: rank 0's must be broadcast)."""
    return np.random.default_rng(rank).normal(size=(FEATURES,)).astype(np.float32)


def batch_loss(weights: jax.Array, inputs: jax.Array, targets: jax.Array) -> jax.Array:
    return jnp.mean((inputs @ weights - targets) ** 2)


def flat(tree: Any) -> list[float]:
    """Every leaf of ``tree`` flattened into one list (for exact comparisons across processes)."""
    return [float(v) for leaf in jax.tree_util.tree_leaves(tree) for v in np.asarray(leaf, dtype=np.float64).ravel()]


def averaging_case() -> dict[str, Any]:
    from steprl import config
    from steprl.agents.jax.parallel import (
        broadcast_from_rank,
        compile_update,
        mean_over_processes,
        scaler_update_over_processes,
    )
    from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState

    config.jax.init_distributed()
    rank = config.jax.rank

    def step(weights: jax.Array, inputs: jax.Array, targets: jax.Array, prior: ScalerState) -> tuple:
        grads = mean_over_processes(jax.grad(batch_loss)(weights, inputs, targets))
        return weights - LEARNING_RATE * grads, scaler_update_over_processes(prior, inputs)

    weights = broadcast_from_rank(jnp.asarray(initial_weights(rank)))
    inputs, targets = map(jnp.asarray, rank_batch(rank))
    prior = ScalerState(jnp.zeros(FEATURES), jnp.ones(FEATURES), jnp.ones(1))
    stepped, scaler = compile_update(step)(weights, inputs, targets, prior)
    try:
        jax.jit(lambda x: mean_over_processes(x))(weights)
        outside_raised = False
    except RuntimeError:
        outside_raised = True
    return {"weights": flat(stepped), "scaler": flat(scaler), "outside_raised": outside_raised}


def ppo_case(run_dir: Path) -> dict[str, Any]:
    from helpers.jax_agents import CategoricalPolicy, Value
    from steprl import config
    from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
    from steprl.envs.wrappers.jax import wrap_env
    from steprl.memories.jax import RandomMemory
    from steprl.resources.preprocessors.jax import RunningStandardScaler
    from steprl.resources.schedulers.jax import KLAdaptiveLR
    from steprl.trainers.jax import SequentialTrainer
    from steprl.utils import set_seed

    seed = set_seed(7)  # offset by the rank
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    env.reset(seed=seed)
    models = {"policy": CategoricalPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}
    for role, model in models.items():
        model.init_state_dict(role)
    before = flat(models["policy"].state_dict.params)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=8, learning_epochs=2, mini_batches=2, learning_rate=1e-2,
        learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 0.001},
        state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": env.observation_space},
        value_preprocessor=RunningStandardScaler, value_preprocessor_kwargs={"size": 1},
        experiment={"directory": str(run_dir / f"rank{config.jax.rank}"), "write_interval": 8,
                    "checkpoint_interval": 16},
    )  # fmt: skip
    agent = PPO(models=models, memory=RandomMemory(8, 2), cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space)  # fmt: skip
    broadcast = flat(agent.policy.state_dict.params)
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": TIMESTEPS, "headless": True,
                                                            "disable_progressbar": True})  # fmt: skip
    trainer.train()
    return {
        "seed": seed,
        "before": before,
        "broadcast": broadcast,
        "params": flat((agent.policy.state_dict.params, agent.value.state_dict.params)),
        "optimizers": flat((agent.policy_optimizer.state, agent.value_optimizer.state)),
        "scalers": flat((agent._state_preprocessor.state, agent._value_preprocessor.state)),
        "write_interval": agent.write_interval,
        "checkpoint_interval": agent.checkpoint_interval,
    }


def main(out_dir: Path) -> None:
    from helpers.jax_compilation import use_test_compilation_cache
    from steprl import config

    use_test_compilation_cache()

    result = {"rank": config.jax.rank, "averaging": averaging_case(), "ppo": ppo_case(out_dir / "runs")}
    (out_dir / f"rank{config.jax.rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # run as a script: ``helpers`` importable
    main(Path(sys.argv[1]))
