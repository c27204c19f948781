"""A CleanRL-style PPO written out by hand (plain gymnasium + torch): the throughput benchmark's baseline peer.

One file, one loop, the way CleanRL's ``ppo.py`` reads: a vector env, an actor and a critic MLP, a rollout of
``rollouts`` steps with the value and log-probability computed per step, GAE, then ``epochs`` x ``mini_batches``
clipped-surrogate steps with Adam and gradient clipping. The hyperparameters are those of ``throughput.py``'s
steprl run (value loss = plain MSE with weight 1, no entropy bonus, advantages normalised per minibatch as CleanRL
does, truncation treated as termination as CleanRL does).

    python benchmarks/peer_handwritten_ppo.py [--steps 30000] [--num-envs 8] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical


@dataclass(frozen=True)
class Hyper:
    """The shared PPO settings (``throughput.py`` passes its own)."""

    rollouts: int = 128
    epochs: int = 4
    mini_batches: int = 4
    learning_rate: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip: float = 0.2
    max_grad_norm: float = 0.5
    hidden: int = 64


def _mlp(inputs: int, outputs: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, outputs))


class ActorCritic(nn.Module):
    """Separate actor and critic networks (CleanRL's ``Agent``)."""

    def __init__(self, observations: int, actions: int, hidden: int) -> None:
        super().__init__()
        self.actor = _mlp(observations, actions, hidden)
        self.critic = _mlp(observations, 1, hidden)

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(
        self, x: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        distribution = Categorical(logits=self.actor(x))
        if action is None:
            action = distribution.sample()
        return action, distribution.log_prob(action), distribution.entropy(), self.critic(x)


def make_env(env_id: str, num_envs: int, mode: str) -> gym.vector.VectorEnv:
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode)


def greedy_return(act: Callable[[np.ndarray], int], episodes: int = 3, seed: int = 0, env_id: str = "CartPole-v1") -> float:
    """Mean undiscounted return of ``act`` (observation ``(1, obs)`` → action) over ``episodes`` episodes."""
    env = gym.make(env_id)
    total = 0.0
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + 100 * seed + episode)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs[None].astype(np.float32)))
            total += float(reward)
            done = terminated or truncated
    env.close()
    return total / episodes


def train(steps: int, num_envs: int, mode: str, seed: int, hyper: Hyper = Hyper(),
          env_id: str = "CartPole-v1") -> tuple[float, ActorCritic]:
    """Train for ``steps`` env steps; returns ``(env steps per second, trained agent)`` (construction not timed)."""
    torch.manual_seed(seed)
    envs = make_env(env_id, num_envs, mode)
    obs_size = int(np.prod(envs.single_observation_space.shape))
    agent = ActorCritic(obs_size, int(envs.single_action_space.n), hyper.hidden)
    optimizer = torch.optim.Adam(agent.parameters(), lr=hyper.learning_rate)
    t, n = hyper.rollouts, num_envs
    batch_size = t * n
    minibatch_size = batch_size // hyper.mini_batches
    obs = torch.zeros((t, n, obs_size))
    actions = torch.zeros((t, n), dtype=torch.long)
    logprobs = torch.zeros((t, n))
    rewards = torch.zeros((t, n))
    dones = torch.zeros((t, n))
    values = torch.zeros((t, n))

    start = time.perf_counter()
    next_obs = torch.as_tensor(envs.reset(seed=seed)[0], dtype=torch.float32)
    next_done = torch.zeros(n)
    for _ in range(steps // batch_size):
        for step in range(t):
            obs[step] = next_obs
            dones[step] = next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob
            raw_obs, reward, terminated, truncated, _ = envs.step(action.numpy())
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = torch.as_tensor(raw_obs, dtype=torch.float32)
            next_done = torch.as_tensor(np.logical_or(terminated, truncated), dtype=torch.float32)

        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            last = torch.zeros(n)
            for step in reversed(range(t)):
                if step == t - 1:
                    not_done, following = 1.0 - next_done, next_value
                else:
                    not_done, following = 1.0 - dones[step + 1], values[step + 1]
                delta = rewards[step] + hyper.gamma * following * not_done - values[step]
                last = delta + hyper.gamma * hyper.gae_lambda * not_done * last
                advantages[step] = last
            returns = advantages + values

        b_obs, b_logprobs, b_actions = obs.reshape(-1, obs_size), logprobs.reshape(-1), actions.reshape(-1)
        b_advantages, b_returns = advantages.reshape(-1), returns.reshape(-1)
        indexes = np.arange(batch_size)
        for _ in range(hyper.epochs):
            np.random.shuffle(indexes)
            for begin in range(0, batch_size, minibatch_size):
                mb = indexes[begin:begin + minibatch_size]
                _, new_logprob, _, new_value = agent.get_action_and_value(b_obs[mb], b_actions[mb])
                log_ratio = new_logprob - b_logprobs[mb]
                ratio = log_ratio.exp()
                mb_advantages = b_advantages[mb]
                mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                pg_loss = torch.max(-mb_advantages * ratio, -mb_advantages * torch.clamp(ratio, 1 - hyper.clip, 1 + hyper.clip)).mean()
                v_loss = ((new_value.view(-1) - b_returns[mb]) ** 2).mean()
                loss = pg_loss + v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), hyper.max_grad_norm)
                optimizer.step()
    elapsed = time.perf_counter() - start
    envs.close()
    return steps // batch_size * batch_size / elapsed, agent


def greedy(agent: ActorCritic) -> Callable[[np.ndarray], int]:
    """The agent's deterministic (argmax) policy on one observation."""

    def act(obs: np.ndarray) -> int:
        with torch.no_grad():
            return int(agent.actor(torch.as_tensor(obs)).argmax(-1)[0])

    return act


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--mode", choices=("sync", "async"), default="sync")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    speed, agent = train(args.steps, args.num_envs, args.mode, args.seed,
                         Hyper(rollouts=max(1, 1024 // args.num_envs)))
    print(f"hand-written PPO: {speed:,.0f} env steps/s; evaluation return {greedy_return(greedy(agent), seed=args.seed):.1f}")


if __name__ == "__main__":
    main()
