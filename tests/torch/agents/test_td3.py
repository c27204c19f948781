"""TD3-only behaviour: delayed policy/target updates, target policy smoothing, the clipped double-Q target, the
policy-delay phase across checkpoints, preset noises. Behaviour shared with DDPG is tested in test_ddpg.py."""

from __future__ import annotations

import pytest
import torch
from helpers.ddpg import ConstantNoise, crafted_batch, make_agent, same, snapshot

from steprl.agents.torch.td3.losses import clipped_double_q_target, smoothed_target_actions
from steprl.cli.presets import PresetError, load_preset, parse_preset, resolve_agent_cfg
from steprl.resources.noises.torch import GaussianNoise

TARGETS = ("target_policy", "target_critic_1", "target_critic_2")


def test_td3_config_errors():
    with pytest.raises(ValueError, match="policy_delay"):
        make_agent("TD3", policy_delay=0)
    with pytest.raises(ValueError, match="smooth_regularization_clip"):
        make_agent("TD3", smooth_regularization_clip=-0.1)
    with pytest.raises(TypeError, match="smooth_regularization_noise"):
        make_agent("TD3", smooth_regularization_noise="gaussian")
    with pytest.raises(KeyError, match="Did you mean 'policy_delay'"):
        make_agent("TD3", policy_delays=3)


def test_delayed_policy_and_target_updates():
    agent = make_agent("TD3", policy_delay=3, polyak=0.5)
    agent.init({"timesteps": 10})
    for step in range(1, 7):
        policy, critics = snapshot(agent.policy), [snapshot(c) for c in agent.critics]
        targets = {role: snapshot(agent.models[role]) for role in TARGETS}
        agent._update_step(*crafted_batch())
        assert all(not same(old, snapshot(c)) for old, c in zip(critics, agent.critics))  # critics: every step
        if step % 3:
            assert same(policy, snapshot(agent.policy)), step
            assert all(same(targets[role], snapshot(agent.models[role])) for role in TARGETS), step
        else:
            assert not same(policy, snapshot(agent.policy)), step
            for role in TARGETS:  # targets move by exactly polyak towards the updated sources
                source = snapshot(agent.models[role.removeprefix("target_")])
                for new, old, src in zip(snapshot(agent.models[role]), targets[role], source):
                    torch.testing.assert_close(new, 0.5 * old + 0.5 * src, rtol=0, atol=1e-6)
    assert agent.critic_updates == 6


def test_policy_delay_phase_survives_a_checkpoint(tmp_path):
    agent = make_agent("TD3", policy_delay=2)
    agent.init({"timesteps": 10})
    agent._update_step(*crafted_batch())
    path = str(tmp_path / "td3.pt")
    agent.save(path)
    resumed = make_agent("TD3")
    resumed.load(path)
    assert resumed.critic_updates == 1
    policy = snapshot(resumed.policy)
    resumed._update_step(*crafted_batch())  # the 2nd critic update: a policy step
    assert not same(policy, snapshot(resumed.policy))


def _capture_target_actions(agent, monkeypatch) -> list[torch.Tensor]:
    seen: list[torch.Tensor] = []
    original = agent.target_critic_1.act

    def act(inputs, role=""):
        seen.append(inputs["taken_actions"].clone())
        return original(inputs, role)

    monkeypatch.setattr(agent.target_critic_1, "act", act)
    return seen


@pytest.mark.parametrize("value", [10.0, -10.0, 0.1])
def test_target_policy_smoothing_noise_is_clipped(value, monkeypatch):
    agent = make_agent("TD3", smooth_regularization_noise=ConstantNoise(value), smooth_regularization_clip=0.3)
    seen = _capture_target_actions(agent, monkeypatch)
    _, _, rewards, next_states, terminated = crafted_batch()
    agent._target_values(rewards, next_states, terminated)
    with torch.no_grad():
        plain = agent.target_policy.act({"states": next_states})[0]
    expected = torch.clamp(plain + max(-0.3, min(0.3, value)), -2.0, 2.0)
    torch.testing.assert_close(seen[0], expected)


def test_target_policy_smoothing_with_gaussian_noise_and_bounds(monkeypatch):
    agent = make_agent("TD3", smooth_regularization_noise=GaussianNoise(0.0, 100.0, device="cpu"),
                       smooth_regularization_clip=0.5)
    seen = _capture_target_actions(agent, monkeypatch)
    _, _, rewards, next_states, terminated = crafted_batch(64)
    agent._target_values(rewards, next_states, terminated)
    with torch.no_grad():
        plain = agent.target_policy.act({"states": next_states})[0]
    assert ((seen[0] - plain).abs() <= 0.5 + 1e-6).all()
    assert (seen[0].abs() <= 2.0).all()
    assert not torch.equal(seen[0], plain)
    # without a smoothing noise the target action is the target policy's
    agent = make_agent("TD3")
    seen = _capture_target_actions(agent, monkeypatch)
    agent._target_values(rewards, next_states, terminated)
    with torch.no_grad():
        torch.testing.assert_close(seen[0], agent.target_policy.act({"states": next_states})[0])


def test_clipped_double_q_target_takes_the_minimum_and_stops_only_at_termination():
    agent = make_agent("TD3", discount_factor=0.9)
    states, actions, rewards, next_states, _ = crafted_batch()
    terminated = torch.tensor([[True], [False]] * 4)
    with torch.no_grad():  # make the two target critics differ
        for p in agent.target_critic_2.parameters():
            p.add_(0.3 * torch.randn_like(p))
        next_actions = agent.target_policy.act({"states": next_states})[0]
        q1 = agent.target_critic_1.act({"states": next_states, "taken_actions": next_actions})[0]
        q2 = agent.target_critic_2.act({"states": next_states, "taken_actions": next_actions})[0]
    assert not torch.equal(q1, q2)
    target = agent._target_values(rewards, next_states, terminated)
    torch.testing.assert_close(target, torch.where(terminated, rewards, rewards + 0.9 * torch.minimum(q1, q2)))
    torch.testing.assert_close(clipped_double_q_target(rewards, terminated, [q1, q2], 0.9), target)


def test_smoothed_target_actions_pure_function():
    actions = torch.tensor([[1.9], [0.0], [-1.9]])
    noise = torch.tensor([[1.0], [-0.2], [-1.0]])
    low, high = torch.tensor([-2.0]), torch.tensor([2.0])
    torch.testing.assert_close(smoothed_target_actions(actions, noise, 0.5, low, high), torch.tensor([[2.0], [-0.2], [-2.0]]))
    torch.testing.assert_close(smoothed_target_actions(actions, noise, 0.5), torch.tensor([[2.4], [-0.2], [-2.4]]))


def test_preset_noises_are_instantiated():
    import gymnasium as gym

    env = gym.make("Pendulum-v1")
    for agent in ("td3", "ddpg"):
        cfg = resolve_agent_cfg(load_preset("Pendulum-v1", agent), env.observation_space)
        noise = cfg["exploration"]["noise"]
        assert isinstance(noise, GaussianNoise) and noise.std == 0.1
        if agent == "td3":
            assert isinstance(cfg["smooth_regularization_noise"], GaussianNoise)
    table = {"td3": {"timesteps": 10, "num_envs": 1, "eval_every": 5, "agent": {"exploration": {"noise": "GaussianNoise"}}}}
    with pytest.raises(PresetError, match="class = \"GaussianNoise\""):
        parse_preset(table, "Pendulum-v1", "td3")
    table["td3"]["agent"] = {"smooth_regularization_noise": {"class": "PinkNoise"}}
    with pytest.raises(PresetError, match="known classes: GaussianNoise, OrnsteinUhlenbeckNoise"):
        parse_preset(table, "Pendulum-v1", "td3")
    table["td3"]["agent"] = {"exploration": {"noise": {"class": "OrnsteinUhlenbeckNoise", "theta": 0.15, "sigma": 0.2, "base_scale": 1.0}}}
    cfg = resolve_agent_cfg(parse_preset(table, "Pendulum-v1", "td3"), env.observation_space)
    assert type(cfg["exploration"]["noise"]).__name__ == "OrnsteinUhlenbeckNoise"
    assert table["td3"]["agent"]["exploration"]["noise"]["class"] == "OrnsteinUhlenbeckNoise"  # preset untouched
