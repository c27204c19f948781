"""IPPO / MAPPO on PettingZoo MPE ``simple_spread_v3`` (N=3, 25 cycles, discrete actions): learning curve and wall time.

Deterministic evaluation (greedy actions) over 100 episodes every ``--eval-every`` environment steps; the return is
summed over the three agents (a random policy scores about -84, standing still about -76). The settings are read
from the ``steprl train --env mpe2:simple_spread_v3`` preset of the agent (``[ippo]`` or ``[mappo]``): one policy
and one value network shared by the three agents (agent id appended to the inputs). Run by hand, one seed per process::

    python benchmarks/ma_simple_spread.py --agent mappo --seed 0 --steps 500000 --out /tmp/mappo_0.json
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from steprl.cli.multi_agent import make_multi_agent_env, multi_agent_spaces
from steprl.cli.presets import load_preset, resolve_agent_cfg
from steprl.memories.torch import RandomMemory
from steprl.multi_agents.torch.ippo import IPPO, IPPO_DEFAULT_CONFIG
from steprl.multi_agents.torch.mappo import MAPPO, MAPPO_DEFAULT_CONFIG
from steprl.multi_agents.torch.networks import build_multi_agent_models
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

ENV_ID = "mpe2:simple_spread_v3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", choices=["ippo", "mappo"], default="mappo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="environment steps (default: the preset's)")
    parser.add_argument("--eval-every", type=int, default=50_000)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    set_seed(args.seed)
    preset = load_preset(ENV_ID, args.agent)
    env = make_multi_agent_env(ENV_ID, preset.num_envs, preset.env_kwargs)
    env.reset(seed=args.seed)
    uids = env.possible_agents
    mappo = args.agent == "mappo"
    network = dict(preset.network)
    share = bool(network.pop("share_parameters", False))
    value_spaces = env.state_spaces if mappo else None
    models = build_multi_agent_models(
        uids, env.observation_spaces, env.action_spaces, env.device, network, value_spaces, share_parameters=share
    )
    cfg = (MAPPO_DEFAULT_CONFIG if mappo else IPPO_DEFAULT_CONFIG).copy()
    cfg.update(
        resolve_agent_cfg(preset, multi_agent_spaces(env)[0]),
        append_agent_id=share,
        experiment={"write_interval": 0, "checkpoint_interval": 0},
    )
    if mappo and cfg.get("shared_state_preprocessor") is not None:
        cfg["shared_state_preprocessor_kwargs"] = {"size": env.state_space(uids[0])}
    memories = {
        uid: RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device) for uid in uids
    }
    spaces = {"shared_observation_spaces": env.state_spaces} if mappo else {}
    agent = (MAPPO if mappo else IPPO)(
        uids, models, memories, env.observation_spaces, env.action_spaces, env.device, cfg, **spaces
    )
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 0, "headless": True, "disable_progressbar": True})
    steps = args.steps or preset.timesteps
    history = []
    start = time.perf_counter()
    vector_step = 0
    for target in range(args.eval_every, steps + args.eval_every, args.eval_every):
        target = min(target, steps)
        while vector_step * env.num_envs < target:
            trainer.train(timestep=vector_step, timesteps=steps // env.num_envs)
            vector_step += 1
        train_time = time.perf_counter() - start
        returns = trainer.run_episodes(preset.eval_episodes, mode="eval")
        mean = sum(returns) / len(returns)
        history.append({"env_steps": vector_step * env.num_envs, "eval_return": mean, "train_seconds": train_time})
        print(json.dumps(history[-1]), flush=True)
        if target >= steps:
            break
    result = {"agent": args.agent, "seed": args.seed, "history": history, "wall_seconds": time.perf_counter() - start}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
