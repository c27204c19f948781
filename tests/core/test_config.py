"""Root package: version, logger, config.torch, set_seed, config merging."""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
import torch

import steprl
from steprl import config, logger
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.utils import set_seed


def test_version_and_logger():
    assert steprl.__version__ == "0.1.0"
    assert isinstance(logger, logging.Logger) and logger.name == "steprl"
    assert logger.level == logging.DEBUG
    # pytest may add its own capture handlers; steprl installs exactly one of its own
    own = [h for h in logger.handlers if type(h).__module__ == "steprl"]
    assert len(own) == 1
    record = logging.LogRecord("steprl", logging.WARNING, __file__, 1, "hello", None, None)
    assert "[steprl:WARNING] hello" in own[0].format(record)


def test_parse_device():
    assert config.torch.parse_device("cpu") == torch.device("cpu")
    assert config.torch.parse_device(torch.device("cpu")) == torch.device("cpu")
    assert config.torch.parse_device(None) == torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        assert config.torch.parse_device("cuda:3") == torch.device("cpu")  # unusable -> warning + fallback
    with pytest.raises(TypeError, match="device must be"):
        config.torch.parse_device(3.5)


def test_distributed_variables_are_read_at_import():
    code = "from steprl import config; t = config.torch; print(t.rank, t.local_rank, t.world_size, t.is_distributed)"
    env = {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "1", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == ["3", "1", "1", "False"], out.stderr
    assert config.torch.world_size == 1 and not config.torch.is_distributed


def test_set_seed_is_reproducible(monkeypatch):
    monkeypatch.setattr(os, "urandom", lambda n: bytes([1, 2, 3, 4 + 128][:n]))  # set_seed() draws no real entropy
    assert set_seed(123) == 123
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(123)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    assert set_seed() == int.from_bytes(bytes([1, 2, 3, 132]), byteorder="little") % 2**31
    with pytest.raises(TypeError):
        set_seed("42")  # type: ignore[arg-type]


def test_merge_config_deep_and_validated():
    defaults = {"a": 1, "nested": {"x": 1, "y": 2}, "kwargs": {}}
    merged = merge_config(defaults, {"nested": {"y": 5}, "kwargs": {"anything": 1}})
    assert merged == {"a": 1, "nested": {"x": 1, "y": 5}, "kwargs": {"anything": 1}}
    assert defaults["nested"] == {"x": 1, "y": 2}
    with pytest.raises(KeyError, match="Did you mean 'nested'"):
        merge_config(defaults, {"nestd": {}})
    with pytest.raises(KeyError, match=r"cfg\['nested'\].*Did you mean 'x'"):
        merge_config(defaults, {"nested": {"xx": 1}})
    with pytest.raises(TypeError, match="must be a dict"):
        merge_config(defaults, [1])  # type: ignore[arg-type]


def test_default_config_copy_is_deep():
    defaults = DefaultConfig({"experiment": {"directory": ""}})
    cfg = defaults.copy()
    cfg["experiment"]["directory"] = "runs/x"
    assert defaults["experiment"]["directory"] == ""
    assert type(cfg) is dict


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Leave strict mode (the suite runs strict) and forget STEPRL_STRICT for one test."""
    monkeypatch.delenv("STEPRL_STRICT", raising=False)
    config.strict = None
    yield
    config.strict = True


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warning messages, once each (depending on the pytest version a record may reach two capture handlers)."""
    return list(dict.fromkeys(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING))


def test_unknown_keys_warn_with_the_closest_key_and_are_ignored(lenient, caplog) -> None:
    from steprl.agents.torch.q_learning import Q_LEARNING_DEFAULT_CONFIG

    logger.propagate = True
    try:
        with caplog.at_level(logging.WARNING, logger="steprl"):
            merged = merge_config(Q_LEARNING_DEFAULT_CONFIG, {"alpha": 0.4, "experiment": {"write_intervall": 3}}, where="Q_LEARNING cfg")
    finally:
        logger.propagate = False
    assert "alpha" not in merged and merged["learning_rate"] == Q_LEARNING_DEFAULT_CONFIG["learning_rate"]
    assert merged["experiment"]["write_interval"] == "auto"
    assert _warnings(caplog) == [
        "'alpha' is not a Q_LEARNING cfg key (ignored); did you mean 'learning_rate'?",
        "'write_intervall' is not a Q_LEARNING cfg['experiment'] key (ignored); did you mean 'write_interval'?",
    ]


def test_strict_mode_from_config_or_environment(lenient, monkeypatch) -> None:
    assert config.strict is False
    monkeypatch.setenv("STEPRL_STRICT", "1")
    assert config.strict is True
    with pytest.raises(KeyError, match="Unknown configuration key 'alpha'.*Did you mean 'learning_rate'"):
        merge_config({"learning_rate": 0.5}, {"alpha": 0.4})
    config.strict = False  # an explicit setting wins over the environment variable
    assert merge_config({"learning_rate": 0.5}, {"alpha": 0.4}) == {"learning_rate": 0.5}
    assert merge_config({"learning_rate": 0.5}, {"alpha": 0.4}, strict=False) == {"learning_rate": 0.5}
    with pytest.raises(KeyError):
        merge_config({"learning_rate": 0.5}, {"alpha": 0.4}, strict=True)


def test_trainer_config_follows_the_same_rule(lenient, caplog) -> None:
    from helpers.agents import RecordingAgent
    from helpers.envs import counting_vec

    from steprl.envs.wrappers.torch import wrap_env
    from steprl.trainers.torch import SequentialTrainer

    cfg = {"timesteps": 2, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
    logger.propagate = True
    try:
        with caplog.at_level(logging.WARNING, logger="steprl"):
            trainer = SequentialTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=RecordingAgent(), cfg={**cfg, "headles": True})
    finally:
        logger.propagate = False
    assert "'headles' is not a SequentialTrainer cfg key (ignored); did you mean 'headless'?" in _warnings(caplog)
    trainer.train()
    config.strict = True
    with pytest.raises(KeyError, match="Did you mean 'headless'"):
        SequentialTrainer(env=wrap_env(counting_vec(2), verbose=False), agents=RecordingAgent(), cfg={**cfg, "headles": True})
