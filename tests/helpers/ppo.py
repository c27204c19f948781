"""PPO test builders shared by several test modules."""

from __future__ import annotations

from helpers.models import CategoricalPolicy, Value
from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.memories.torch import RandomMemory

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


API_KEYS = {
    "rollouts": 16, "learning_epochs": 8, "mini_batches": 2, "discount_factor": 0.99, "lambda": 0.95,
    "learning_rate": 1e-3, "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None, "state_preprocessor_kwargs": {}, "value_preprocessor": None,
    "value_preprocessor_kwargs": {}, "random_timesteps": 0, "learning_starts": 0, "grad_norm_clip": 0.5,
    "ratio_clip": 0.2, "value_clip": 0.2, "clip_predicted_values": False, "entropy_loss_scale": 0.0,
    "value_loss_scale": 1.0, "kl_threshold": 0, "rewards_shaper": None, "time_limit_bootstrap": False,
    "mixed_precision": False,
}


def build(env, rollouts=8, **cfg_updates):
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=rollouts, experiment=dict(NO_LOGS))
    cfg.update(cfg_updates)
    models = {"policy": CategoricalPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}
    memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs)
    return PPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space)
