"""steprl.config.jax, set_seed's JAX key, the JAX array ops and the JAX import paths."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from steprl import config
from steprl._jax_config import JaxConfig
from steprl.backends import ops_for
from steprl.utils import set_seed


def test_backend_defaults_to_numpy_and_rejects_others() -> None:
    fresh = JaxConfig()
    assert fresh.backend == "numpy"
    fresh.backend = "jax"
    assert fresh.backend == "jax"
    with pytest.raises(ValueError, match="'numpy' or 'jax'"):
        fresh.backend = "torch"


def test_set_seed_sets_the_key_of_jax_random_prngkey() -> None:
    previous = config.jax.key
    try:
        assert set_seed(42) == 42
        key = config.jax.key
        assert isinstance(key, jax.Array)
        assert np.array_equal(np.asarray(key), np.asarray(jax.random.PRNGKey(42)))
        a = jax.random.uniform(config.jax.key, (3,))
        set_seed(42)
        assert np.array_equal(np.asarray(jax.random.uniform(config.jax.key, (3,))), np.asarray(a))
        set_seed(43)
        assert not np.array_equal(np.asarray(config.jax.key), np.asarray(jax.random.PRNGKey(42)))
    finally:
        config.jax.key = previous


def test_key_setter_checks_its_argument() -> None:
    fresh = JaxConfig()
    fresh.key = 2**40 + 5
    assert np.array_equal(np.asarray(fresh.key), np.asarray(jax.random.PRNGKey(2**40 + 5)))
    fresh.key = jax.random.PRNGKey(7)
    assert np.asarray(fresh.key).tolist() == [0, 7]
    with pytest.raises(ValueError, match="2\\*\\*64"):
        fresh.key = -1
    with pytest.raises(TypeError, match="int seed or a JAX PRNG key"):
        fresh.key = "seed"


def test_device_parsing() -> None:
    fresh = JaxConfig()
    assert fresh.device == jax.devices()[0]
    assert fresh.parse_device("cpu") == jax.devices("cpu")[0]
    assert fresh.parse_device(jax.devices()[0]) == jax.devices()[0]
    assert fresh.parse_device("no-such-device:3") == jax.devices()[0]  # a warning, then the default
    with pytest.raises(TypeError, match="device must be"):
        fresh.parse_device(3)


def test_rank_and_world_size_from_the_launcher_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("JAX_LOCAL_RANK", "1"), ("JAX_RANK", "3"), ("JAX_WORLD_SIZE", "4")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JAX_COORDINATOR_ADDR", "10.0.0.1")
    monkeypatch.setenv("JAX_COORDINATOR_PORT", "5000")
    fresh = JaxConfig()
    assert (fresh.local_rank, fresh.rank, fresh.world_size, fresh.is_distributed) == (1, 3, 4, True)
    assert fresh.coordinator_address == "10.0.0.1:5000"
    monkeypatch.delenv("JAX_WORLD_SIZE")
    assert JaxConfig().is_distributed is False


def test_jax_array_ops() -> None:
    ops = ops_for(jnp.ones(2))
    assert ops.name == "jax"
    zeros = ops.zeros(3, "float32", jnp.ones(2))
    assert isinstance(zeros, jax.Array) and zeros.dtype == jnp.float32 and zeros.shape == (3,)
    assert ops.stack([jnp.ones(2), jnp.zeros(2)]).shape == (2, 2)
    assert ops.concatenate([jnp.ones((1, 2)), jnp.zeros((2, 2))]).shape == (3, 2)
    assert isinstance(ops.to_numpy(jnp.ones(2)), np.ndarray)
    view = ops.host_view(jnp.arange(3))
    assert isinstance(view, np.ndarray) and view.tolist() == [0, 1, 2]
    with ops.no_grad():
        pass


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "steprl.trainers.jax",
            ["Trainer", "generate_equally_spaced_scopes", "ManualTrainer", "StepTrainer", "SequentialTrainer"],
        ),
        ("steprl.trainers.jax.manual", ["MANUAL_TRAINER_DEFAULT_CONFIG"]),
        ("steprl.trainers.jax.step", ["STEP_TRAINER_DEFAULT_CONFIG"]),
        ("steprl.trainers.jax.sequential", ["SEQUENTIAL_TRAINER_DEFAULT_CONFIG"]),
        ("steprl.envs.wrappers.jax", ["wrap_env", "Wrapper", "MultiAgentEnvWrapper"]),
        ("steprl.memories.jax", ["Memory", "RandomMemory"]),
    ],
)
def test_public_names(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    for name in names:
        assert getattr(imported, name) is not None


def test_jax_trainer_reads_the_jax_rank_and_names_the_jax_wrapper() -> None:
    from steprl.trainers.jax import ManualTrainer, StepTrainer

    assert StepTrainer is ManualTrainer and ManualTrainer.backend == "jax"
    assert ManualTrainer.process_rank() == config.jax.rank
    with pytest.raises(TypeError, match="steprl.envs.wrappers.jax.wrap_env"):
        ManualTrainer(env=object(), agents=[])


def test_torch_wrapped_env_is_refused_by_the_jax_wrap_env() -> None:
    import gymnasium

    from steprl.envs.wrappers.jax import wrap_env as jax_wrap
    from steprl.envs.wrappers.torch import wrap_env as torch_wrap

    env = torch_wrap(gymnasium.make("CartPole-v1"), verbose=False)
    with pytest.raises(TypeError, match="another backend"):
        jax_wrap(env)
    wrapped = jax_wrap(gymnasium.make("CartPole-v1"), verbose=False)
    assert jax_wrap(wrapped) is wrapped


def test_skrl_deprecated_envs_jax_path() -> None:
    from steprl.envs import jax as envs_jax
    from steprl.envs.wrappers.jax import MultiAgentEnvWrapper, Wrapper, wrap_env

    assert envs_jax.wrap_env is wrap_env
    assert envs_jax.Wrapper is Wrapper and envs_jax.MultiAgentEnvWrapper is MultiAgentEnvWrapper
