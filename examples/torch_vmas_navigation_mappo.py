"""MAPPO on VMAS navigation (4 agents, 32 vectorized copies on the torch device), compared with a random policy.

Each agent must reach its own goal without colliding; the value model sees the global state (every agent's
observation side by side). Policy and value are shared by the agents (a one-hot agent id is appended to their
inputs), built by :func:`steprl.multi_agents.torch.networks.build_multi_agent_models`.

    python examples/torch_vmas_navigation_mappo.py [--timesteps 6000]
"""

import argparse

import torch
import vmas

from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.multi_agents.torch.mappo import MAPPO, MAPPO_DEFAULT_CONFIG
from steprl.multi_agents.torch.networks import build_multi_agent_models
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed


def random_policy_return(env, episodes: int) -> float:
    """Mean return (summed over agents) of uniformly random actions over the first episode of each copy."""
    env.reset()
    totals = torch.zeros(env.num_envs, device=env.device)
    running = torch.ones(env.num_envs, dtype=torch.bool, device=env.device)
    while running.any():
        actions = {}
        for uid in env.possible_agents:
            space = env.action_space(uid)
            low = torch.as_tensor(space.low, device=env.device)
            high = torch.as_tensor(space.high, device=env.device)
            actions[uid] = low + (high - low) * torch.rand(env.num_envs, *space.shape, device=env.device)
        _, rewards, terminated, truncated, _ = env.step(actions)
        totals += running * sum(r.view(-1) for r in rewards.values())
        done = torch.stack([(terminated[uid] | truncated[uid]).view(-1) for uid in env.possible_agents]).all(0)
        running &= ~done
    return float(totals[:episodes].mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=6000, help="vector steps (x 32 copies = environment steps)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(1)  # small networks: one CPU thread is the fastest
    set_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    env = wrap_env(vmas.make_env("navigation", num_envs=32, device=device, n_agents=4, max_steps=100, seed=args.seed))
    uids = env.possible_agents

    models = build_multi_agent_models(
        uids, env.observation_spaces, env.action_spaces, env.device, {"hidden": [64, 64], "activation": "tanh"},
        value_spaces=env.state_spaces, share_parameters=True,
    )  # fmt: skip
    memories = {uid: RandomMemory(memory_size=64, num_envs=env.num_envs, device=env.device) for uid in uids}

    cfg = MAPPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 64
    cfg["learning_epochs"] = 5
    cfg["mini_batches"] = 4
    cfg["learning_rate"] = 5e-4
    cfg["grad_norm_clip"] = 1.0
    cfg["entropy_loss_scale"] = 0.0
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space(uids[0])}
    cfg["shared_state_preprocessor"] = RunningStandardScaler
    cfg["shared_state_preprocessor_kwargs"] = {"size": env.state_space(uids[0])}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1}
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
        device=env.device,
    )

    random_return = random_policy_return(env, env.num_envs)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
    for timestep in range(args.timesteps):
        trainer.train(timestep=timestep)

    returns = trainer.run_episodes(env.num_envs)  # greedy actions; return summed over the four agents
    print(f"random policy return: {random_return:.2f} over {env.num_envs} episodes")
    print(f"evaluation return: {sum(returns) / len(returns):.2f} over {len(returns)} episodes")


if __name__ == "__main__":
    main()
