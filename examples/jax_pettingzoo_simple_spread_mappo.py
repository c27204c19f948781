"""MAPPO on PettingZoo MPE simple_spread_v3 with JAX, written the skrl 1.x way.

Three agents must cover three landmarks; 8 copies of the environment are stepped as one batch. The agents share
one policy and one value network (parameter sharing), with a one-hot agent id appended to their inputs; the value
network sees the global state (the three observations side by side). Each step runs the shared policy once, jitted,
on the 24 rows of all agents and copies; each update is one jitted function.

    python examples/jax_pettingzoo_simple_spread_mappo.py [--timesteps 62500]
"""

import argparse

import flax.linen as nn
import gymnasium as gym
import numpy as np
from mpe2 import simple_spread_v3

from steprl import config
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax import CategoricalMixin, DeterministicMixin, Model
from steprl.multi_agents.jax.mappo import MAPPO, MAPPO_DEFAULT_CONFIG
from steprl.resources.preprocessors.jax import RunningStandardScaler
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["states"]))
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(self.num_actions)(x), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space=None, device=None, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["states"]))
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(1)(x), {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=62_500, help="vector steps (x 8 copies = environment steps)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    config.jax.backend = "numpy"  # the environment steps on the host: NumPy arrays avoid transfers
    set_seed(args.seed)
    env = wrap_env([simple_spread_v3.parallel_env(N=3, max_cycles=25, continuous_actions=False) for _ in range(8)])
    env.reset(seed=args.seed)
    device = env.device

    # one policy and one value for the three agents, their inputs followed by a one-hot agent id
    uids = env.possible_agents
    num_agents = len(uids)
    policy_inputs = gym.spaces.Box(-np.inf, np.inf, (env.observation_space(uids[0]).shape[0] + num_agents,))
    value_inputs = gym.spaces.Box(-np.inf, np.inf, (env.state_space(uids[0]).shape[0] + num_agents,))
    policy = Policy(policy_inputs, env.action_space(uids[0]), device)
    value = Value(value_inputs, None, device)
    policy.init_state_dict("policy")
    value.init_state_dict("value")
    models = {uid: {"policy": policy, "value": value} for uid in uids}
    memories = {uid: RandomMemory(memory_size=100, num_envs=env.num_envs, device=device) for uid in uids}

    cfg = MAPPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 100
    cfg["learning_epochs"] = 5
    cfg["mini_batches"] = 2
    cfg["learning_rate"] = 7e-4
    cfg["grad_norm_clip"] = 10.0
    cfg["entropy_loss_scale"] = 0.01
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
    cfg["append_agent_id"] = True
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}

    agent = MAPPO(
        possible_agents=uids,
        models=models,
        memories=memories,
        cfg=cfg,
        observation_spaces=env.observation_spaces,
        action_spaces=env.action_spaces,
        shared_observation_spaces=env.state_spaces,
        device=device,
    )

    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
    trainer.train()

    returns = trainer.run_episodes(24)  # greedy actions; return summed over the three agents
    print(
        f"evaluation return: {sum(returns) / len(returns):.1f} over {len(returns)} episodes (random policy: about -84)"
    )


if __name__ == "__main__":
    main()
