"""Training a PPO agent imports nothing heavy it does not use: no TensorBoard, no matplotlib, no torch._dynamo."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("tensorboard", "torch.utils.tensorboard", "matplotlib", "torch._dynamo", "torch._inductor")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import gymnasium as gym
    import torch
    from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
    from steprl.envs.wrappers.torch import wrap_env
    from steprl.memories.torch import RandomMemory
    from steprl.models.torch import CategoricalMixin, DeterministicMixin, Model
    from steprl.trainers.torch import SequentialTrainer

    class Policy(CategoricalMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            CategoricalMixin.__init__(self)
            self.net = torch.nn.Linear(self.num_observations, self.num_actions)

        def compute(self, inputs, role):
            return self.net(inputs["states"]), {}

    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self)
            self.net = torch.nn.Linear(self.num_observations, 1)

        def compute(self, inputs, role):
            return self.net(inputs["states"]), {}

    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=4, experiment={"write_interval": 0, "checkpoint_interval": 0})
    models = {"policy": Policy(env.observation_space, env.action_space), "value": Value(env.observation_space, env.action_space)}
    agent = PPO(models=models, memory=RandomMemory(memory_size=4, num_envs=2), cfg=cfg,
                observation_space=env.observation_space, action_space=env.action_space)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 12, "headless": True, "disable_progressbar": True}).train()
    print(json.dumps({"steps": int(agent.optimizer.state[next(iter(agent.optimizer.state))]["step"]),
                      "loaded": sorted(m for m in HEAVY if m in sys.modules)}))
    """
)


@pytest.mark.slow
def test_training_ppo_imports_no_tensorboard_matplotlib_or_dynamo() -> None:
    code = f"HEAVY = {HEAVY!r}\n{SCRIPT}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["steps"] == 3 * 8 * 2  # three updates of 8 epochs x 2 minibatches: the optimizer did step
    assert report["loaded"] == []
