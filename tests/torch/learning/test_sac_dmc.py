"""SAC on dm_control's cartpole-swingup through DeepMindWrapper: after 2,500 agent steps (20,000 control steps at
action repeat 8; 1,000 of random actions, then 1,500 updates) the deterministic policy must clearly beat uniformly
random actions: more than three times their return (marked slow).

What it proves: the wrapper's observations, action bounds, rewards and episode ends (the 1,000-step time limit
is a truncation, so SAC bootstraps through it) are right enough for SAC to learn the swing-up.
The configuration is that of ``benchmarks/dmc_sac.py`` (the full learning curve beside published results) with
128x128 networks and batches of 128 (cheaper, and faster to learn at this budget): seed 0 evaluates 698.6 here,
uniformly random actions 152.7.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "egl")  # nothing is rendered; this keeps dm_control's import free of warnings

suite = pytest.importorskip("dm_control.suite")

from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG  # noqa: E402
from steprl.envs.wrappers.torch import wrap_env  # noqa: E402
from steprl.memories.torch import RandomMemory  # noqa: E402
from steprl.models.torch.networks.sac import build_sac_models  # noqa: E402
from steprl.trainers.torch import ManualTrainer  # noqa: E402
from steprl.utils import set_seed  # noqa: E402

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
STEPS = 2500  # agent steps (action repeat 8): 20 episodes
LEARNING_STARTS = 1000


def cartpole(seed: int) -> object:
    return wrap_env(suite.load("cartpole", "swingup", task_kwargs={"random": seed}), verbose=False, action_repeat=8)


def random_policy_return(env: object, episodes: int, seed: int) -> float:
    """Mean return of uniformly random actions over ``episodes`` episodes."""
    generator = torch.Generator().manual_seed(seed)
    env.reset()
    returns, total = [], 0.0
    while len(returns) < episodes:
        actions = torch.rand((1, 1), generator=generator) * 2 - 1
        _, reward, terminated, truncated, _ = env.step(actions)
        total += reward.item()
        if terminated.any() or truncated.any():
            returns.append(total)
            total = 0.0
    return float(np.mean(returns))


@pytest.mark.slow
def test_sac_triples_the_return_of_random_actions_on_cartpole_swingup() -> None:
    torch.set_num_threads(1)
    set_seed(0)
    env, eval_env = cartpole(0), cartpole(1000)
    models = build_sac_models(env.observation_space, env.action_space, env.device, {"hidden": [128, 128]})
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(
        batch_size=128, actor_learning_rate=1e-3, critic_learning_rate=1e-3, entropy_learning_rate=1e-3,
        initial_entropy_value=0.1, discount_factor=0.99, polyak=0.005,
        random_timesteps=LEARNING_STARTS, learning_starts=LEARNING_STARTS,
    )  # fmt: skip
    cfg["experiment"].update(write_interval=0, checkpoint_interval=0)
    memory = RandomMemory(memory_size=STEPS, num_envs=1, device=env.device)
    agent = SAC(models, memory, env.observation_space, env.action_space, env.device, cfg)
    trainer = ManualTrainer(env=env, agents=agent, cfg={**QUIET, "timesteps": STEPS})
    for t in range(STEPS):
        trainer.train(timestep=t)
    evaluator = ManualTrainer(env=eval_env, agents=agent, cfg={**QUIET, "timesteps": STEPS})
    learned = float(np.mean(evaluator.run_episodes(5)))
    random_actions = random_policy_return(cartpole(2000), 3, seed=0)
    print(f"SAC {learned:.1f}, random actions {random_actions:.1f}")
    assert learned > 3 * random_actions, (learned, random_actions)
