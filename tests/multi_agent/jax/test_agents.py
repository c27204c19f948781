"""JAX IPPO/MAPPO: the same update as the PyTorch agents on the same numbers, one jitted policy call per step for
every agent, checkpoints, evaluation, errors."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import torch
from helpers.jax_ma import NumpyCueTask, NumpyCueWrapper, build_jax_agent
from helpers.ma_agents import QUIET, CueTask, CueWrapper, build_agent

from steprl.core.checkpoint import CheckpointError
from steprl.resources.preprocessors.jax import RunningStandardScaler as JaxScaler
from steprl.resources.preprocessors.torch import RunningStandardScaler as TorchScaler
from steprl.trainers.jax import ManualTrainer
from steprl.utils import set_seed

ROLLOUTS, ENVS = 4, 2
SETTINGS = {"rollouts": ROLLOUTS, "learning_epochs": 1, "mini_batches": 1, "entropy_loss_scale": 0.01}


def _copy_torch_weights(torch_model: torch.nn.Module, jax_model) -> None:
    """The torch MLP's Linear layers into the flax model's Dense_0, Dense_1, ... (kernel = weight transposed)."""
    linears = [m for m in torch_model.modules() if isinstance(m, torch.nn.Linear)]
    params = jax.tree_util.tree_map(np.asarray, jax_model.state_dict.params)
    for i, linear in enumerate(linears):
        params["params"][f"Dense_{i}"] = {
            "kernel": linear.weight.detach().numpy().T.copy(),
            "bias": linear.bias.detach().numpy().copy(),
        }
    jax_model.state_dict = jax_model.state_dict.replace(params=jax.tree_util.tree_map(jax.numpy.asarray, params))


def _transitions(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    steps = []
    for t in range(ROLLOUTS):
        cues = rng.integers(0, 3, (ENVS, 2))
        one_hot = np.eye(3, dtype=np.float32)[cues]
        state = np.concatenate([one_hot.reshape(ENVS, 6), np.full((ENVS, 1), t / 4, np.float32)], 1)
        steps.append(
            {
                "states": {"a": one_hot.reshape(ENVS, 6), "b": one_hot[:, ::-1].reshape(ENVS, 6)},
                "actions": {uid: rng.integers(0, 3, (ENVS, 1)).astype(np.int64) for uid in "ab"},
                "rewards": {uid: rng.normal(size=(ENVS, 1)).astype(np.float32) for uid in "ab"},
                "terminated": {uid: np.full((ENVS, 1), t == ROLLOUTS - 1 and uid == "a") for uid in "ab"},
                "truncated": {uid: np.array([[t == 1], [False]]) for uid in "ab"},
                "shared": state,
            }
        )
    for t, step in enumerate(steps):  # the next observation: the following step's (a new cue pair)
        following = steps[(t + 1) % ROLLOUTS]
        step["next_states"], step["shared_next"] = following["states"], following["shared"]
    return steps


def _feed(agent, steps: list[dict], convert) -> None:
    agent.init({"timesteps": 100})
    for t, step in enumerate(steps):
        kwargs = {name: {uid: convert(v) for uid, v in step[name].items()} for name in
                  ("states", "actions", "rewards", "next_states", "terminated", "truncated")}  # fmt: skip
        infos = {"shared_states": convert(step["shared"]), "shared_next_states": convert(step["shared_next"])}
        agent.record_transition(**kwargs, infos=infos, timestep=t, timesteps=100)
        agent.post_interaction(timestep=t, timesteps=100)


def _mappo(env, **cfg):
    """The MAPPO of the update tests (shared parameters with agent ids, value normalisation, entropy bonus)."""
    return build_jax_agent(
        env, "mappo", share=True, **SETTINGS, value_preprocessor=JaxScaler, value_preprocessor_kwargs={"size": 1},
        **cfg,
    )  # fmt: skip


def test_update_equals_the_torch_agents_on_the_same_numbers(tmp_path) -> None:
    """Same weights, same rollout (a termination, a truncation), value normalisation, shared parameters with agent
    ids, the global state: the tracked losses and the parameters after one update agree with the PyTorch MAPPO."""
    algorithm = "mappo"
    experiment = {"directory": str(tmp_path), "write_interval": 1000, "checkpoint_interval": 0}
    torch_agent = build_agent(
        CueWrapper(CueTask(ENVS)), algorithm, share=True, **SETTINGS, experiment=dict(experiment, experiment_name="t"),
        value_preprocessor=TorchScaler, value_preprocessor_kwargs={"size": 1},
    )  # fmt: skip
    jax_agent = _mappo(NumpyCueWrapper(NumpyCueTask(ENVS)), experiment=dict(experiment, experiment_name="j"))
    torch_team, jax_team = torch_agent._teams[0], jax_agent._teams[0]
    _copy_torch_weights(torch_team.policy, jax_team.policy)
    _copy_torch_weights(torch_team.value, jax_team.value)
    steps = _transitions(seed=1)
    _feed(torch_agent, steps, torch.as_tensor)
    _feed(jax_agent, steps, np.asarray)
    for tag in ("Loss / Policy loss (a)", "Loss / Value loss (b)", "Loss / Entropy loss (a)"):
        assert float(jax_agent.tracking_data[tag][0]) == pytest.approx(
            float(torch_agent.tracking_data[tag][0]), abs=1e-5
        )
    after = jax.tree_util.tree_leaves(jax_team.policy.state_dict.params["params"])
    torch_linears = [m for m in torch_team.policy.modules() if isinstance(m, torch.nn.Linear)]
    expected = [p.detach().numpy() for m in torch_linears for p in (m.bias, m.weight.T)]
    assert len(after) == len(expected)
    for got, want in zip(after, expected):
        np.testing.assert_allclose(np.asarray(got), want, atol=2e-5)


def _ippo(env):
    """Two IPPO agents without parameter sharing: two policies, two teams."""
    return build_jax_agent(env, "ippo", share=False, rollouts=ROLLOUTS, learning_epochs=1, mini_batches=1)


def test_one_jitted_policy_call_per_step_for_all_agents() -> None:
    env = NumpyCueWrapper(NumpyCueTask(ENVS))
    agent = _ippo(env)
    assert len(agent._teams) == 2  # two policies: still one call
    calls = []
    for mode, jitted in agent._act_jit.items():
        agent._act_jit[mode] = lambda *args, jitted=jitted: calls.append(1) or jitted(*args)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
    before = [np.asarray(p).copy() for p in jax.tree_util.tree_leaves(agent._teams[1].policy.state_dict.params)]
    for _ in range(ROLLOUTS):
        trainer.train()
    assert len(calls) == ROLLOUTS
    after = jax.tree_util.tree_leaves(agent._teams[1].policy.state_dict.params)
    assert any(not np.array_equal(b, np.asarray(a)) for b, a in zip(before, after))  # the update ran
    actions, log_probs, outputs = agent.act({uid: np.eye(6, dtype=np.float32)[:ENVS] for uid in "ab"}, 0, 1)
    assert (
        isinstance(actions["a"], np.ndarray) and actions["b"].shape == (ENVS, 1) and log_probs["a"].shape == (ENVS, 1)
    )
    assert outputs["b"]["mean_actions"].shape == (ENVS, 1)


def test_checkpoint_round_trip_and_single_agent_files_refused(tmp_path) -> None:
    set_seed(0)
    env = NumpyCueWrapper(NumpyCueTask(ENVS))
    agent = _mappo(env)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
    for _ in range(ROLLOUTS + 1):
        trainer.train()
    path = str(tmp_path / "agent.ckpt")
    agent.save(path)
    other = _mappo(NumpyCueWrapper(NumpyCueTask(ENVS)))
    other.init({"timesteps": 8})
    other.load(path)
    for name in ("policy", "value", "policy_optimizer", "value_preprocessor"):
        mine, theirs = agent.checkpoint_modules["b"][name], other.checkpoint_modules["b"][name]
        for x, y in zip(
            jax.tree_util.tree_leaves(agent._state_of(mine)), jax.tree_util.tree_leaves(other._state_of(theirs))
        ):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    # the loaded optimizer is the team's (one object for both agents) and the next update uses it
    assert other.checkpoint_modules["a"]["policy_optimizer"] is other._teams[0].state.policy_optimizer
    states = {uid: np.eye(6, dtype=np.float32)[:ENVS] for uid in "ab"}
    np.testing.assert_array_equal(
        other.act(states, 0, 1)[2]["a"]["mean_actions"], agent.act(states, 0, 1)[2]["a"]["mean_actions"]
    )
    single = build_jax_agent(NumpyCueWrapper(NumpyCueTask(ENVS)), "ippo", share=True, rollouts=ROLLOUTS)
    with pytest.raises(CheckpointError, match="holds a MAPPO agent"):
        single.load(path)


def test_evaluation_uses_mean_actions_and_writes_no_memory() -> None:
    env = NumpyCueWrapper(NumpyCueTask(ENVS))
    agent = build_jax_agent(env, "mappo", share=True, rollouts=ROLLOUTS)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 4, **QUIET})
    trainer.eval()
    trainer.eval()
    assert agent.memories["a"].memory_index == 0 and not agent.memories["a"].filled


def test_bad_input_is_named() -> None:
    env = NumpyCueWrapper(NumpyCueTask(ENVS))
    with pytest.raises(ValueError, match="needs separate policy and value models"):
        models = build_jax_agent(env, "ippo", rollouts=ROLLOUTS).models
        same = {uid: {"policy": roles["policy"], "value": roles["policy"]} for uid, roles in models.items()}
        type(build_jax_agent(env, "ippo"))(["a", "b"], same, None, env.observation_spaces, env.action_spaces)
    with pytest.raises(ValueError, match=r"cfg\['learning_rate'\].*missing \['b'\]"):
        build_jax_agent(env, "ippo", learning_rate={"a": 1e-3})
    agent = build_jax_agent(env, "ippo")
    with pytest.raises(KeyError, match=r"unknown agent ids \['c'\]"):
        agent.act({"c": np.zeros((ENVS, 6), np.float32)}, 0, 1)


def test_same_seed_same_run() -> None:
    def run() -> list:
        set_seed(3)
        env = NumpyCueWrapper(NumpyCueTask(ENVS, seed=3))
        agent = _ippo(env)
        trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
        taken = [trainer.train()[1]["a"].tolist() for _ in range(ROLLOUTS + 2)]  # an update in between
        return taken + [
            np.asarray(p).tolist() for p in jax.tree_util.tree_leaves(agent._teams[0].policy.state_dict.params)
        ]

    assert run() == run()
