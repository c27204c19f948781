"""Trainer behaviour: the ManualTrainer contract, scopes, modes, episode boundaries, progress, closing.

The tests of the step contract run on every backend's trainers and wrappers (torch, JAX/NumPy, JAX/jax.Array).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers.agents import RecordingAgent
from helpers.backends import BACKENDS, Backend
from helpers.envs import CountingEnv, counting_vec

from steprl.envs.wrappers.torch import wrap_env
from steprl.trainers.torch import (
    MANUAL_TRAINER_DEFAULT_CONFIG,
    STEP_TRAINER_DEFAULT_CONFIG,
    ManualTrainer,
    StepTrainer,
    generate_equally_spaced_scopes,
)

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def make(num_envs: int = 3, mode: str = "NextStep", truncate: bool = False):
    return wrap_env(counting_vec(num_envs, mode, truncate), verbose=False)


def trainers(backend: str):
    """The trainers package of ``backend`` (``steprl.trainers.torch`` or ``steprl.trainers.jax``)."""
    return importlib.import_module(f"steprl.trainers.{Backend(backend).framework}")


def test_default_config_is_the_seed_config():
    assert MANUAL_TRAINER_DEFAULT_CONFIG["timesteps"] == 100000
    assert MANUAL_TRAINER_DEFAULT_CONFIG["headless"] is False
    assert MANUAL_TRAINER_DEFAULT_CONFIG["disable_progressbar"] is False
    assert MANUAL_TRAINER_DEFAULT_CONFIG["close_environment_at_exit"] is True
    assert STEP_TRAINER_DEFAULT_CONFIG == MANUAL_TRAINER_DEFAULT_CONFIG
    assert StepTrainer is ManualTrainer


def test_unknown_config_key_names_closest():
    with pytest.raises(KeyError, match="headles.*Did you mean 'headless'"):
        ManualTrainer(env=make(), agents=RecordingAgent(), cfg={"headles": True})


def test_user_cfg_not_mutated():
    cfg = {"timesteps": 10, **QUIET}
    before = dict(cfg)
    ManualTrainer(env=make(), agents=RecordingAgent(), cfg=cfg)
    assert cfg == before


@pytest.mark.parametrize("backend", BACKENDS)
def test_train_returns_step_tuple_and_counts_from_zero(backend):
    be, agent = Backend(backend), RecordingAgent()
    trainer = trainers(backend).ManualTrainer(
        env=be.wrap_env(counting_vec(3)), agents=agent, cfg={"timesteps": 10, **QUIET}
    )
    out = trainer.train()
    assert len(out) == 5 and all(be.is_native(a) for a in out[:4])
    next_states, rewards, terminated, truncated = (be.numpy(a) for a in out[:4])
    assert next_states.shape == (3, 3) and rewards.shape == (3, 1)
    assert terminated.dtype == np.bool_ and truncated.shape == (3, 1)
    trainer.train()
    acts = [c for c in agent.calls if c[0] == "act"]
    assert [c[1] for c in acts] == [0, 1]
    assert all(c[2] == 10 for c in acts)  # timesteps=None -> cfg["timesteps"]
    trainer.train(timestep=7, timesteps=20)
    trainer.train()
    acts = [c for c in agent.calls if c[0] == "act"]
    assert [(c[1], c[2]) for c in acts[2:]] == [(7, 20), (8, 10)]


def test_step_order_and_eval_has_no_learning_hook():
    agent = RecordingAgent()
    trainer = ManualTrainer(env=make(), agents=agent, cfg={"timesteps": 5, **QUIET})
    trainer.train(timestep=0)
    assert [c[0] for c in agent.calls] == ["pre", "act", "record", "post"]
    agent.calls.clear()
    trainer.eval(timestep=0)
    assert [c[0] for c in agent.calls] == ["pre", "act", "record"]
    assert agent.training is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_eval_uses_mean_actions_unless_stochastic(backend):
    be, manual = Backend(backend), trainers(backend).ManualTrainer
    agent = RecordingAgent(action=1)
    trainer = manual(env=be.wrap_env(counting_vec(3)), agents=agent, cfg={"timesteps": 5, **QUIET})
    _, rewards, *_ = trainer.train()
    assert (be.numpy(rewards) == 2.0).all()  # action 1 -> reward 2
    _, rewards, *_ = trainer.eval()
    assert (be.numpy(rewards) == 1.0).all()  # mean action 0 -> reward 1
    agent2 = RecordingAgent(action=1)
    cfg = {"timesteps": 5, "stochastic_evaluation": True, **QUIET}
    trainer2 = manual(env=be.wrap_env(counting_vec(3)), agents=agent2, cfg=cfg)
    _, rewards, *_ = trainer2.eval()
    assert (be.numpy(rewards) == 2.0).all()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["NextStep", "SameStep", "Disabled"])
@pytest.mark.parametrize("truncate", [False, True])
def test_no_transition_spans_two_episodes(mode, truncate, backend):
    be, agent = Backend(backend), RecordingAgent()
    env = be.wrap_env(counting_vec(3, mode, truncate))
    trainer = trainers(backend).ManualTrainer(env=env, agents=agent, cfg={"timesteps": 40, **QUIET})
    for t in range(40):
        trainer.train(timestep=t)
    transitions = [
        {k: be.numpy(v) if k != "training" and hasattr(v, "shape") else v for k, v in tr.items()}
        for tr in agent.transitions
    ]
    finals = 0
    for tr in transitions:
        s, ns = tr["states"], tr["next_states"]
        assert (s[:, 0] == ns[:, 0]).all(), "a transition spans two episodes"
        assert (ns[:, 1] == s[:, 1] + 1).all(), "a step was skipped or repeated (ignored action?)"
        done = (tr["terminated"] | tr["truncated"]).flatten()
        lengths = np.array([3.0, 4.0, 5.0])
        assert np.array_equal(done, ns[:, 1] == lengths), "done flags must be set exactly at the true final observation"
        assert np.array_equal(tr["truncated"].flatten(), done & truncate)
        finals += int(done.sum())
    assert finals > 10
    # next step starts from the reset observation only in the finished sub-envs
    for prev, nxt in zip(transitions, transitions[1:]):
        done = (prev["terminated"] | prev["truncated"]).flatten()
        assert (nxt["states"][done, 1] == 0).all()
        assert (nxt["states"][done, 0] == prev["states"][done, 0] + 1).all()
        assert np.array_equal(nxt["states"][~done], prev["next_states"][~done])


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_env_resets_on_done(backend):
    be, agent = Backend(backend), RecordingAgent()
    trainer = trainers(backend).ManualTrainer(
        env=be.wrap_env(CountingEnv(length=3)), agents=agent, cfg={"timesteps": 10, **QUIET}
    )
    for _ in range(7):
        trainer.train()
    episodes = [float(tr["states"][0, 0]) for tr in agent.transitions]
    assert episodes == [0, 0, 0, 1, 1, 1, 2]
    assert trainer.episode_returns("train") == [6.0, 6.0]
    assert trainer.episode_lengths("train") == [3, 3]


def test_mode_switch_starts_fresh_episodes_and_keeps_separate_stats():
    agent = RecordingAgent()
    trainer = ManualTrainer(env=make(), agents=agent, cfg={"timesteps": 10, **QUIET})
    trainer.train()
    trainer.train()
    trainer.eval()
    eval_first = agent.transitions[-1]["states"]
    assert torch.all(eval_first[:, 1] == 0), "eval must start fresh episodes"
    for _ in range(6):
        trainer.eval()
    trainer.train()
    assert torch.all(agent.transitions[-1]["states"][:, 1] == 0), "train must start fresh episodes after eval"
    assert trainer.episode_returns("train") == []
    assert sorted(trainer.episode_returns("eval")) == [3.0, 3.0, 4.0, 5.0]  # 7 eval steps, lengths 3, 4, 5


def test_headless_never_renders_and_render_otherwise():
    vec = counting_vec(2)
    env = wrap_env(vec, verbose=False)
    trainer = ManualTrainer(env=env, agents=RecordingAgent(), cfg={"timesteps": 3, **QUIET})
    trainer.train()
    trainer.eval()
    assert sum(e.render_calls for e in vec.envs) == 0
    vec2 = counting_vec(2)
    trainer2 = ManualTrainer(
        env=wrap_env(vec2, verbose=False), agents=RecordingAgent(), cfg={"timesteps": 3, **{**QUIET, "headless": False}}
    )
    trainer2.train()
    assert all(e.render_calls == 1 for e in vec2.envs)


def test_progress_bar_settings(capsys):
    for setting, expect_output in ((False, True), (True, False), (None, False)):  # stdout is not a TTY under pytest
        trainer = ManualTrainer(
            env=make(),
            agents=RecordingAgent(),
            cfg={"timesteps": 4, "headless": True, "disable_progressbar": setting, "close_environment_at_exit": False},
        )
        for t in range(4):
            trainer.train(timestep=t)
        bar = trainer._loop.modes["train"].progress
        # the bar counts environment steps: 4 vector steps of 3 sub-environments
        assert trainer.num_envs == 3 and bar.closed and bar.n == 12 and bar.total == 12
        out = capsys.readouterr().out
        assert ("12/12" in out) == expect_output


def test_list_of_one_agent_and_repeated_calls():
    agent = RecordingAgent()
    agents = [agent]
    trainer = ManualTrainer(env=make(), agents=agents, cfg={"timesteps": 5, **QUIET})
    for _ in range(5):
        trainer.train()
    assert trainer.agents is agent and agents == [agent]
    assert len(agent.transitions) == 5
    assert agent.transitions[0]["states"].shape[0] == 3


def test_simultaneous_agents_scopes():
    a, b = RecordingAgent(action=0), RecordingAgent(action=1)
    agents, scope = [a, b], [1, 3]
    env = make(4)
    trainer = ManualTrainer(env=env, agents=agents, agents_scope=scope, cfg={"timesteps": 5, **QUIET})
    _, rewards, *_ = trainer.train()
    assert rewards.flatten().tolist() == [1.0, 2.0, 2.0, 2.0]
    assert a.transitions[0]["states"].shape[0] == 1 and b.transitions[0]["states"].shape[0] == 3
    assert torch.all(b.transitions[0]["states"][:, 2] == torch.tensor([1.0, 2.0, 3.0]))
    trainer.train()
    assert scope == [1, 3] and trainer.agents == [a, b] and trainer.agents_scope == [[0, 1], [1, 4]]


def test_equal_split_when_scope_omitted():
    agents = [RecordingAgent(), RecordingAgent()]
    trainer = ManualTrainer(env=make(5), agents=agents, cfg={"timesteps": 5, **QUIET})
    assert trainer.agents_scope == [[0, 2], [2, 5]]
    assert generate_equally_spaced_scopes(5, 2) == [2, 3]


@pytest.mark.parametrize(
    ("num_envs", "agents", "scope", "match"),
    [
        (3, 2, [1, 1], "sums to 2"),
        (3, 2, [3], "1 entries but 2 agents"),
        (2, 3, None, "More simultaneous agents"),
        (3, 0, None, "empty list"),
        (3, 2, [0, 3], "positive ints"),
    ],
)
def test_scope_errors(num_envs, agents, scope, match):
    with pytest.raises(ValueError, match=match):
        ManualTrainer(
            env=make(num_envs), agents=[RecordingAgent() for _ in range(agents)], agents_scope=scope, cfg=QUIET
        )


def test_unwrapped_env_is_rejected():
    with pytest.raises(TypeError, match="wrap_env"):
        ManualTrainer(env=object(), agents=RecordingAgent(), cfg=QUIET)


def test_agent_init_called_once():
    agent = RecordingAgent()
    ManualTrainer(env=make(), agents=agent, cfg=QUIET)
    ManualTrainer(env=make(), agents=agent, cfg=QUIET)
    assert agent.init_calls == 1


def test_close_environment_once():
    closes = []
    env = make()
    env.close = lambda: closes.append(1)
    trainer = ManualTrainer(env=env, agents=RecordingAgent(), cfg={"headless": True, "disable_progressbar": True})
    trainer._close_environment()
    trainer._close_environment()
    assert closes == [1]


@pytest.mark.slow
def test_environment_closed_at_interpreter_exit(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        + "from helpers.agents import RecordingAgent\nfrom helpers.envs import counting_vec\n"
        "from steprl.envs.wrappers.torch import wrap_env\nfrom steprl.trainers.torch import ManualTrainer\n"
        "vec = counting_vec(2)\nenv = wrap_env(vec, verbose=False)\n"
        "orig = vec.close\n"
        "def close(**kw):\n    print('CLOSED', flush=True); orig(**kw)\n"
        "vec.close = close\n"
        "t = ManualTrainer(env=env, agents=RecordingAgent(), cfg={'headless': True, 'disable_progressbar': True})\n"
        "t.train()\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("CLOSED") == 1
    assert "Environment closed" in out.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_sequential_trainer_runs_timesteps(backend):
    agent = RecordingAgent()
    env = Backend(backend).wrap_env(counting_vec(3))
    trainer = trainers(backend).SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 12, **QUIET})
    trainer.train()
    assert len(agent.transitions) == 12
    trainer.eval()
    assert len(agent.transitions) == 24 and agent.transitions[-1]["training"] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_episodes_balances_sub_envs(backend):
    env = Backend(backend).wrap_env(counting_vec(3))
    trainer = trainers(backend).ManualTrainer(env=env, agents=RecordingAgent(), cfg={"timesteps": 100, **QUIET})
    returns = trainer.run_episodes(6, max_steps=50)
    # eval uses mean action 0 -> reward 1 per step; episode lengths 3, 4, 5: two episodes of each
    assert sorted(returns) == [3.0, 3.0, 4.0, 4.0, 5.0, 5.0]


def test_gymnasium_cartpole_integration():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    agent = RecordingAgent(action=0)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 50, **QUIET})
    for t in range(50):
        trainer.train(timestep=t)
    assert len(trainer.episode_returns("train")) >= 2


def test_separate_eval_trainer_does_not_disturb_training():
    """A second trainer evaluating the same agent on its own env: no interrupt, training mode restored."""
    agent = RecordingAgent()
    agent.interrupts = 0
    agent.interrupt_episodes = lambda: setattr(agent, "interrupts", agent.interrupts + 1)
    train = ManualTrainer(env=make(), agents=agent, cfg={"timesteps": 100, **QUIET})
    evaluate = ManualTrainer(env=make(), agents=agent, cfg={"timesteps": 100, **QUIET})
    train.train()
    evaluate.run_episodes(3, max_steps=50)
    evaluate.run_episodes(3, max_steps=50)
    assert agent.interrupts == 0 and agent.training is False
    train.train()
    assert agent.training is True and agent.transitions[-1]["training"] is True
    assert agent.transitions[-1]["states"][0, 1] == 1  # the training episode continued
    train.eval()
    assert agent.interrupts == 1  # this trainer's own training episodes were abandoned


def test_steps_beyond_timesteps_open_no_new_bars():
    trainer = ManualTrainer(env=make(), agents=RecordingAgent(), cfg={"timesteps": 3, **QUIET})
    for _ in range(3):
        trainer.train()
    first = trainer._loop.modes["train"].progress
    assert first.closed
    for _ in range(3):
        trainer.train()  # past cfg["timesteps"]: keeps stepping, no new progress bar
    assert trainer._loop.modes["train"].progress is first
    trainer.train(timestep=0)  # a new pass from 0 gets a fresh bar
    assert trainer._loop.modes["train"].progress is not first
