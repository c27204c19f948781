"""Twin critics evaluated as one batched ensemble (SAC, TD3): the same losses and gradients as one pass per critic,
on the same numbers (terminated and truncated rows mixed), clear errors for critics that cannot be batched, a
fallback for critics that cannot be vmapped, unchanged checkpoints, no host syncs; the fused target update."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.ddpg import QUIET, make_agent, pendulum
from helpers.models import mlp

from steprl.agents.torch.critic_group import CriticGroup, ensemble_incompatibility
from steprl.agents.torch.off_policy import soft_updater
from steprl.agents.torch.sac import SAC
from steprl.agents.torch.sac.losses import sac_critic_target
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, Model
from steprl.models.torch.networks.sac import build_sac_models
from steprl.trainers.torch import ManualTrainer

OBS = gym.spaces.Box(-8.0, 8.0, shape=(3,), dtype=np.float32)
BOX = gym.spaces.Box(-2.0, 2.0, shape=(1,), dtype=np.float32)
BATCH = 16


class HostReadingCritic(DeterministicMixin, Model):
    """A critic whose forward pass reads a value to the host (cannot be vmapped)."""

    def __init__(self) -> None:
        Model.__init__(self, OBS, BOX, "cpu")
        DeterministicMixin.__init__(self)
        self.net = mlp(4, 1, hidden=8)

    def compute(self, inputs: dict, role: str = "") -> tuple:
        values = self.net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=-1))
        if float(values.detach().sum()) > 1e9:
            values = values * 0.5
        return values, {}


class WideCritic(HostReadingCritic):
    """Same class family, other parameter shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.net = mlp(4, 1, hidden=12)


def sac_agent(models: dict[str, Any] | None = None) -> SAC:
    torch.manual_seed(0)
    models = build_sac_models(OBS, BOX, "cpu", {"hidden": [32, 32]}) if models is None else models
    cfg = {"batch_size": BATCH, "experiment": {"write_interval": 0, "checkpoint_interval": 0}}
    memory = RandomMemory(memory_size=64, num_envs=1)
    return SAC(models=models, memory=memory, observation_space=OBS, action_space=BOX, device="cpu", cfg=cfg)


def mixed_batch() -> list[torch.Tensor]:
    """``[states, actions, rewards, next_states, terminated]``: a quarter of the rows terminated, the others
    bootstrap (ordinary or truncated steps: both carry their true next observation)."""
    generator = torch.Generator().manual_seed(3)
    states, next_states = torch.randn(BATCH, 3, generator=generator), torch.randn(BATCH, 3, generator=generator)
    actions = torch.rand(BATCH, 1, generator=generator) * 4 - 2
    rewards = torch.randn(BATCH, 1, generator=generator)
    terminated = (torch.arange(BATCH) % 4 == 0).reshape(BATCH, 1)
    return [states, actions, rewards, next_states, terminated]


def record_steps(agent: Any) -> list[tuple[float, list[torch.Tensor]]]:
    """Wrap ``agent._optimizer_step`` to record each step's loss and the gradients of all its parameters."""
    records: list[tuple[float, list[torch.Tensor]]] = []
    original: Callable[..., Any] = agent._optimizer_step

    def recording(optimizer: torch.optim.Optimizer, loss: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        result = original(optimizer, loss, *args, **kwargs)
        grads = [p.grad.clone() for group in optimizer.param_groups for p in group["params"]]
        records.append((float(loss.detach()), grads))
        return result

    agent._optimizer_step = recording
    return records


def updated_twice(agent: Any, batched: bool) -> tuple[list, list[torch.Tensor]]:
    """Two update steps on the mixed batch (same RNG stream): the recorded steps and the final parameters."""
    agent.init()
    agent.batched_critics = batched
    records = record_steps(agent)
    agent.set_mode("train")
    torch.manual_seed(11)
    for _ in range(2):
        agent._update_step(*mixed_batch())
    assert agent.batched_critics == batched  # the batched pass ran (no fallback)
    params = [p.detach().clone() for model in agent.models.values() for p in model.parameters()]
    return records, params


def assert_same_steps(separate: tuple[list, list], batched: tuple[list, list]) -> None:
    (steps_a, params_a), (steps_b, params_b) = separate, batched
    assert len(steps_a) == len(steps_b) > 0
    for (loss_a, grads_a), (loss_b, grads_b) in zip(steps_a, steps_b):
        assert loss_b == pytest.approx(loss_a, rel=1e-5, abs=1e-6)
        assert len(grads_a) == len(grads_b)
        for grad_a, grad_b in zip(grads_a, grads_b):
            torch.testing.assert_close(grad_b, grad_a, rtol=1e-4, atol=1e-6)
    for a, b in zip(params_a, params_b):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)


def test_sac_batched_critics_match_separate_passes() -> None:
    models = build_sac_models(OBS, BOX, "cpu", {"hidden": [32, 32]})
    separate = updated_twice(sac_agent(copy.deepcopy(models)), batched=False)
    batched = updated_twice(sac_agent(copy.deepcopy(models)), batched=True)
    assert len(separate[0]) == 6  # critic, policy and temperature steps, twice
    assert_same_steps(separate, batched)


def test_td3_batched_critics_match_separate_passes() -> None:
    torch.manual_seed(0)
    agent_a = make_agent("TD3", policy_delay=1)
    agent_b = make_agent("TD3", policy_delay=1, models={role: copy.deepcopy(m) for role, m in agent_a.models.items()})
    separate = updated_twice(agent_a, batched=False)
    batched = updated_twice(agent_b, batched=True)
    assert len(separate[0]) == 4  # critic and policy steps, twice
    assert_same_steps(separate, batched)


def test_batched_target_stops_only_at_termination() -> None:
    """The batched targets give the clipped double-Q soft target: rewards alone on terminated rows, bootstrapped
    (truncated included) elsewhere."""
    agent = sac_agent()
    agent.init()
    agent.batched_critics = True
    states, actions, rewards, next_states, terminated = mixed_batch()
    group = agent._target_critics
    inputs = {"states": next_states, "taken_actions": actions}
    with torch.no_grad():
        batched = group(inputs)
        separate = [m.act(inputs, role=r)[0] for m, r in zip(group.models, group.roles)]
    for b, s in zip(batched, separate):
        torch.testing.assert_close(b, s, rtol=1e-5, atol=1e-6)
    target = sac_critic_target(rewards, terminated, *batched, torch.zeros(BATCH, 1), 0.2, 0.99)
    ended = terminated.reshape(-1)
    torch.testing.assert_close(target[ended], rewards[ended])
    expected = rewards[~ended] + 0.99 * torch.minimum(*batched)[~ended]
    torch.testing.assert_close(target[~ended], expected)


def test_batched_critics_keep_checkpoints(tmp_path) -> None:
    agent = sac_agent()
    agent.init()
    agent.batched_critics = True
    agent.set_mode("train")
    agent._update_step(*mixed_batch())
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    stored = torch.load(path, weights_only=True)
    for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        assert set(stored[role]) == set(agent.models[role].state_dict())
    other = sac_agent()
    other.load(path)
    for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2", "policy"):
        assert_state_equal(other.models[role].state_dict(), agent.models[role].state_dict())


def test_incompatible_critics_are_refused_clearly() -> None:
    models = build_sac_models(OBS, BOX, "cpu", {"hidden": [32, 32]})
    models["critic_2"] = build_sac_models(OBS, BOX, "cpu", {"hidden": [32, 16]})["critic_2"]
    models["target_critic_2"] = copy.deepcopy(models["critic_2"])
    agent = sac_agent(models)
    with pytest.raises(ValueError, match="critic_1.*critic_2.*shapes"):
        agent.batched_critics = True
    assert not agent.batched_critics  # nothing half-enabled
    assert ensemble_incompatibility([HostReadingCritic(), WideCritic()]) is not None
    shared = HostReadingCritic()
    assert "shares" in ensemble_incompatibility([shared, shared])
    with pytest.raises(ValueError, match="no twin critics"):
        make_agent("DDPG").batched_critics = True


def test_unvmappable_critics_fall_back_with_a_warning(caplog) -> None:
    torch.manual_seed(0)
    critics = [HostReadingCritic(), HostReadingCritic()]
    group = CriticGroup(critics, ["critic_1", "critic_2"])
    group.batched = True
    inputs = {"states": torch.randn(5, 3), "taken_actions": torch.randn(5, 1)}
    values = group(inputs)
    assert not group.batched
    assert any("one by one" in record.getMessage() for record in caplog.records)
    for value, critic in zip(values, critics):
        torch.testing.assert_close(value, critic.act(inputs)[0])


def test_batched_gradients_reach_each_critic_only() -> None:
    torch.manual_seed(0)
    models = build_sac_models(OBS, BOX, "cpu", {"hidden": [8, 8]})
    group = CriticGroup([models["critic_1"], models["critic_2"]], ["critic_1", "critic_2"])
    group.batched = True
    inputs = {"states": torch.randn(6, 3), "taken_actions": torch.randn(6, 1)}
    q1, _ = group(inputs)
    q1.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in models["critic_1"].parameters() if p.dim() > 1)
    assert all(p.grad is None or not p.grad.any() for p in models["critic_2"].parameters())



@pytest.mark.parametrize("name", ["SAC", "TD3"])
def test_batched_per_step_path_has_no_host_syncs(name: str, request: pytest.FixtureRequest, tmp_path) -> None:
    env = pendulum(num_envs=2)
    experiment = {"write_interval": 5, "checkpoint_interval": 0, "directory": str(tmp_path)}
    if name == "SAC":
        models = build_sac_models(env.observation_space, env.action_space, "cpu", {"hidden": [16, 16]})
        cfg = {"batch_size": 4, "random_timesteps": 2, "learning_starts": 3, "experiment": experiment}
        agent = SAC(models=models, memory=RandomMemory(memory_size=64, num_envs=2), cfg=cfg,
                    observation_space=env.observation_space, action_space=env.action_space, device="cpu")
    else:
        agent = make_agent("TD3", env=env, memory_size=64, batch_size=4, random_timesteps=2, learning_starts=3,
                           policy_delay=1, experiment=experiment)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 1000, **QUIET})
    agent.batched_critics = True
    for _ in range(6):
        trainer.train(timestep=1000)  # timestep 1000: no writes of tracking data during the guarded steps
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(5):
        trainer.train(timestep=1000)
    assert agent.batched_critics  # a host sync in the batched pass would have made it fall back


class OwnUpdateCritic(HostReadingCritic):
    """A target model with its own update rule (must be honoured, not fused away)."""

    def update_parameters(self, model: torch.nn.Module, polyak: float = 1) -> None:
        with torch.no_grad():
            for own in self.parameters():
                own.fill_(7.0)


def test_soft_updater_fuses_plain_targets_and_honours_overrides() -> None:
    torch.manual_seed(0)
    sources, targets = [HostReadingCritic() for _ in range(2)], [HostReadingCritic() for _ in range(2)]
    expected = [[t + 0.25 * (s - t) for t, s in zip(target.parameters(), source.parameters())]
                for target, source in zip(targets, sources)]  # fmt: skip
    soft_updater(zip(targets, sources))(0.25)
    for target, values in zip(targets, expected):
        for new, value in zip(target.parameters(), values):
            torch.testing.assert_close(new.detach(), value.detach())
    own = OwnUpdateCritic()
    soft_updater([(targets[0], sources[0]), (own, sources[1])])(0.5)
    assert all(bool((p == 7.0).all()) for p in own.parameters())
