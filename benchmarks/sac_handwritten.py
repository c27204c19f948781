"""A minimal hand-written SAC loop on Pendulum-v1 (plain gymnasium + torch): the reference for benchmarks/sac_pendulum.py.

Same networks, initialisation, hyperparameters and update order as steprl's SAC built by
``steprl.models.torch.networks.sac.build_sac_models``: a tanh-squashed Gaussian policy (one trunk, one ``[mean, log_std]`` head,
log-std squashed into [-5, 2], default PyTorch init), two orthogonally initialised Q-MLPs and their polyak targets,
fused Adam, automatic entropy tuning, uniform random actions for the first ``learning_starts`` steps, and a
replay buffer of preallocated tensors. Only termination stops the bootstrap.

    python benchmarks/sac_handwritten.py [--timesteps 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LOG_2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def q_mlp(inputs: int, hidden: list[int]) -> nn.Sequential:
    """ReLU MLP with orthogonal weights (gain sqrt(2), head 1.0) and zero biases (as steprl.models.torch.networks.mlp.build_mlp)."""
    layers: list[nn.Module] = []
    size = inputs
    for width in hidden:
        linear = nn.Linear(size, width)
        nn.init.orthogonal_(linear.weight, gain=math.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
        size = width
    head = nn.Linear(size, 1)
    nn.init.orthogonal_(head.weight, gain=1.0)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*layers, head)


class Actor(nn.Module):
    def __init__(self, obs: int, act: int, hidden: list[int], low: np.ndarray, high: np.ndarray) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        size = obs
        for width in hidden:
            layers += [nn.Linear(size, width), nn.ReLU()]
            size = width
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(size, 2 * act)
        scale = torch.as_tensor((high - low) / 2.0, dtype=torch.float32)
        self.register_buffer("scale", scale)
        self.register_buffer("bias", torch.as_tensor((high + low) / 2.0, dtype=torch.float32))
        self.register_buffer("log_scale_sum", scale.log().sum())

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(sampled action, log-prob (B, 1), deterministic action)."""
        mean, raw = self.head(self.trunk(obs)).chunk(2, dim=-1)
        log_std = -5.0 + 3.5 * (torch.tanh(raw) + 1.0)
        noise = torch.randn_like(mean)
        u = mean + log_std.exp() * noise
        log_det = 2.0 * (LOG_2 - u - F.softplus(-2.0 * u))
        log_prob = (-0.5 * noise.square() - log_std - log_det).sum(-1, keepdim=True) - (
            HALF_LOG_2PI * mean.shape[-1] + self.log_scale_sum
        )
        return self.bias + self.scale * torch.tanh(u), log_prob, self.bias + self.scale * torch.tanh(mean)


def evaluate(actor: Actor, seed: int, episodes: int = 10) -> float:
    """Mean return of ``episodes`` deterministic episodes on a fresh environment."""
    env = gym.make("Pendulum-v1")
    returns = []
    obs, _ = env.reset(seed=seed)
    with torch.no_grad():
        for _ in range(episodes):
            total, done = 0.0, False
            while not done:
                action = actor(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0))[2][0].numpy()
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
            obs, _ = env.reset()
    env.close()
    return float(np.mean(returns))


class Learner:
    """The networks, optimizers and one SAC update (critic step, policy step, temperature step, polyak targets)."""

    def __init__(
        self, obs_dim: int, act_dim: int, hidden: list[int], low: np.ndarray, high: np.ndarray, lr: float = 1e-3,
        gamma: float = 0.99, tau: float = 0.005,
    ) -> None:  # fmt: skip
        self.actor = Actor(obs_dim, act_dim, hidden, low, high)
        self.q1, self.q2 = q_mlp(obs_dim + act_dim, hidden), q_mlp(obs_dim + act_dim, hidden)
        self.q1_t, self.q2_t = q_mlp(obs_dim + act_dim, hidden), q_mlp(obs_dim + act_dim, hidden)
        self.q1_t.load_state_dict(self.q1.state_dict())
        self.q2_t.load_state_dict(self.q2.state_dict())
        for p in [*self.q1_t.parameters(), *self.q2_t.parameters()]:
            p.requires_grad_(False)
        self.critic_params = [*self.q1.parameters(), *self.q2.parameters()]
        self.target_params = [*self.q1_t.parameters(), *self.q2_t.parameters()]
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=lr, fused=True)
        self.critic_opt = torch.optim.Adam(self.critic_params, lr=lr, fused=True)
        self.log_alpha = torch.tensor(math.log(0.2), requires_grad=True)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=lr, fused=True)
        self.target_entropy = -float(act_dim)
        self.gamma, self.tau = gamma, tau

    def update(self, s: torch.Tensor, a: torch.Tensor, r: torch.Tensor, s2: torch.Tensor, d: torch.Tensor) -> None:
        """One SAC update on a batch (``d``: terminated, bool)."""
        alpha = self.log_alpha.detach().exp()
        with torch.no_grad():
            a2, logp2, _ = self.actor(s2)
            x2 = torch.cat([s2, a2], -1)
            target = r + self.gamma * (~d).float() * (torch.min(self.q1_t(x2), self.q2_t(x2)) - alpha * logp2)
        x = torch.cat([s, a], -1)
        critic_loss = 0.5 * (F.mse_loss(self.q1(x), target) + F.mse_loss(self.q2(x), target))
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()

        for p in self.critic_params:
            p.requires_grad_(False)
        a_new, logp, _ = self.actor(s)
        x_new = torch.cat([s, a_new], -1)
        actor_loss = (alpha * logp - torch.min(self.q1(x_new), self.q2(x_new))).mean()
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        for p in self.critic_params:
            p.requires_grad_(True)

        alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        self.alpha_opt.zero_grad(set_to_none=True)
        alpha_loss.backward()
        self.alpha_opt.step()

        with torch.no_grad():
            torch._foreach_lerp_(self.target_params, self.critic_params, self.tau)


def run(
    seed: int = 0,
    timesteps: int = 20_000,
    hidden: tuple[int, ...] = (256, 256),
    batch_size: int = 256,
    learning_starts: int = 1000,
    lr: float = 1e-3,
    gamma: float = 0.99,
    tau: float = 0.005,
) -> dict[str, float]:
    """Train, then evaluate; returns ``steps_per_s`` (training only), ``train_s`` and ``eval_return``."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    env = gym.make("Pendulum-v1")
    env.action_space.seed(seed)
    obs_dim = int(np.prod(env.observation_space.shape))
    act_dim = int(np.prod(env.action_space.shape))
    low, high = env.action_space.low.astype(np.float32), env.action_space.high.astype(np.float32)
    learner = Learner(obs_dim, act_dim, list(hidden), low, high, lr, gamma, tau)
    actor = learner.actor

    size = timesteps
    b_obs = torch.zeros(size, obs_dim)
    b_next = torch.zeros(size, obs_dim)
    b_act = torch.zeros(size, act_dim)
    b_rew = torch.zeros(size, 1)
    b_term = torch.zeros(size, 1, dtype=torch.bool)
    low_t, high_t = torch.as_tensor(low), torch.as_tensor(high)

    obs, _ = env.reset(seed=seed)
    obs_t = torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)
    start = time.perf_counter()
    for step in range(timesteps):
        if step < learning_starts:
            action = low_t + (high_t - low_t) * torch.rand(1, act_dim)
        else:
            with torch.no_grad():
                action = actor(obs_t)[0]
        next_obs, reward, terminated, truncated, _ = env.step(action[0].numpy())
        next_t = torch.as_tensor(next_obs, dtype=torch.float32).unsqueeze(0)
        b_obs[step] = obs_t[0]
        b_next[step] = next_t[0]
        b_act[step] = action[0]
        b_rew[step, 0] = float(reward)
        b_term[step, 0] = bool(terminated)
        if terminated or truncated:
            obs, _ = env.reset()
            obs_t = torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)
        else:
            obs_t = next_t

        if step + 1 > learning_starts:
            idx = torch.randint(0, step + 1, (batch_size,))
            learner.update(b_obs[idx], b_act[idx], b_rew[idx], b_next[idx], b_term[idx])
    train_s = time.perf_counter() - start
    env.close()
    return {"steps_per_s": timesteps / train_s, "train_s": train_s, "eval_return": evaluate(actor, seed + 1000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = run(seed=args.seed, timesteps=args.timesteps, hidden=tuple(args.hidden))
    print(
        f"hand-written SAC: {result['steps_per_s']:.1f} steps/s ({result['train_s']:.1f} s), "
        f"evaluation return {result['eval_return']:.1f}"
    )


if __name__ == "__main__":
    main()
