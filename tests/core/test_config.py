"""Root package: version, logger, config.torch, set_seed, config merging."""

from __future__ import annotations

import logging
import random
import subprocess
import sys

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
        assert config.torch.parse_device("cuda:3") == torch.device("cpu")  # unusable -> warning + fallback (D-24)
    with pytest.raises(TypeError, match="device must be"):
        config.torch.parse_device(3.5)


def test_distributed_variables_are_read_at_import():
    code = "from steprl import config; t = config.torch; print(t.rank, t.local_rank, t.world_size, t.is_distributed)"
    env = {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "1", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == ["3", "1", "1", "False"], out.stderr
    assert config.torch.world_size == 1 and not config.torch.is_distributed


def test_set_seed_is_reproducible():
    assert set_seed(123) == 123
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(123)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    seed = set_seed()
    assert 0 <= seed < 2**31
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
