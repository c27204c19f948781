"""Agent base bookkeeping: TensorBoard tracking of training episodes, intervals, modes."""

from __future__ import annotations

import pytest
from helpers.agents import RecordingAgent
from helpers.envs import counting_vec

from steprl.envs.wrappers.torch import wrap_env
from steprl.trainers.torch import ManualTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def _scalars(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_training_episodes_are_written_to_tensorboard(tmp_path):
    agent = RecordingAgent(action=1)
    agent.cfg["experiment"] = {"directory": str(tmp_path), "experiment_name": "exp", "write_interval": 10}
    agent.write_interval = 10
    agent.experiment_dir = str(tmp_path / "exp")
    trainer = ManualTrainer(env=wrap_env(counting_vec(3), verbose=False), agents=agent, cfg={"timesteps": 40, **QUIET})
    for t in range(40):
        trainer.train(timestep=t)
    for t in range(20):
        trainer.eval(timestep=t, timesteps=20)  # eval episodes must not appear in the training tags
    agent.writer.flush()
    scalars = _scalars(tmp_path / "exp")
    # action 1 -> reward 2 per step; episode lengths 3, 4, 5 -> returns 6, 8, 10
    assert all(6.0 <= v <= 10.0 for v in scalars["Reward / Total reward (mean)"])
    assert max(scalars["Reward / Total reward (max)"]) == 10.0
    assert min(scalars["Reward / Total reward (min)"]) == 6.0
    assert scalars["Reward / Instantaneous reward (mean)"] == pytest.approx([2.0] * 4)
    assert max(scalars["Episode / Total timesteps (max)"]) == 5.0
    assert len(scalars["Reward / Instantaneous reward (mean)"]) == 4  # every 10 steps, training only
    # evaluation episodes (mean action 0 -> reward 1 per step) are logged under their own tags
    assert sorted(scalars["Eval / Episode return"]) == sorted(trainer.episode_returns("eval"))
    assert set(scalars["Eval / Episode return"]) == {3.0, 4.0, 5.0}


def test_auto_intervals_from_trainer_timesteps(tmp_path):
    agent = RecordingAgent()
    agent.write_interval = "auto"
    agent.checkpoint_interval = "auto"
    agent.experiment_dir = str(tmp_path / "exp")
    ManualTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=agent, cfg={"timesteps": 1000, **QUIET})
    assert agent.write_interval == 10 and agent.checkpoint_interval == 100
    assert (tmp_path / "exp" / "checkpoints").is_dir()


def test_running_mode_validation():
    agent = RecordingAgent()
    with pytest.raises(ValueError, match="'train' or 'eval'"):
        agent.set_running_mode("training")
