"""The class names a runner configuration may use, per backend, and where each class lives.

Nothing is imported here: each entry names a ``(module, attribute)`` that the runner imports when a configuration
uses it. Adding a class to the runner is one line in the backend's table, e.g. a JAX SAC agent:
``"SAC": AgentEntry("steprl.agents.jax.sac", "SAC"),``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AGENTS",
    "BACKENDS",
    "MEMORIES",
    "MODELS",
    "PREPROCESSORS",
    "SCHEDULERS",
    "SHARED_MODEL",
    "TRAINERS",
    "AgentEntry",
    "Location",
    "TrainerEntry",
]

BACKENDS = ("torch", "jax")


@dataclass(frozen=True)
class Location:
    """An importable attribute: ``getattr(import_module(module), name)``."""

    module: str
    name: str


@dataclass(frozen=True)
class AgentEntry:
    """An agent class, its ``<name>_DEFAULT_CONFIG`` next to it, and how the runner builds it.

    ``multi_agent``: the constructor takes ``possible_agents``, per-agent ``models``/``memories`` and space dicts;
    ``value_sees_state``: the ``value`` model reads the environment's global state (MAPPO's centralised critic).
    """

    module: str
    name: str
    multi_agent: bool = False
    value_sees_state: bool = False

    @property
    def location(self) -> Location:
        """The agent class."""
        return Location(self.module, self.name)

    @property
    def default_config(self) -> Location:
        """The agent's default configuration dict."""
        return Location(self.module, f"{self.name}_DEFAULT_CONFIG")


@dataclass(frozen=True)
class TrainerEntry:
    """A trainer class and its default configuration dict (both exported by ``module``)."""

    module: str
    name: str
    default_config: str

    @property
    def location(self) -> Location:
        """The trainer class."""
        return Location(self.module, self.name)


AGENTS: dict[str, dict[str, AgentEntry]] = {
    "torch": {
        "A2C": AgentEntry("steprl.agents.torch.a2c", "A2C"),
        "CEM": AgentEntry("steprl.agents.torch.cem", "CEM"),
        "DDPG": AgentEntry("steprl.agents.torch.ddpg", "DDPG"),
        "DDQN": AgentEntry("steprl.agents.torch.dqn", "DDQN"),
        "DQN": AgentEntry("steprl.agents.torch.dqn", "DQN"),
        "PPO": AgentEntry("steprl.agents.torch.ppo", "PPO"),
        "RPO": AgentEntry("steprl.agents.torch.rpo", "RPO"),
        "SAC": AgentEntry("steprl.agents.torch.sac", "SAC"),
        "TD3": AgentEntry("steprl.agents.torch.td3", "TD3"),
        "TRPO": AgentEntry("steprl.agents.torch.trpo", "TRPO"),
        "IPPO": AgentEntry("steprl.multi_agents.torch.ippo", "IPPO", multi_agent=True),
        "MAPPO": AgentEntry("steprl.multi_agents.torch.mappo", "MAPPO", multi_agent=True, value_sees_state=True),
    },
    "jax": {
        "A2C": AgentEntry("steprl.agents.jax.a2c", "A2C"),
        "CEM": AgentEntry("steprl.agents.jax.cem", "CEM"),
        "DDPG": AgentEntry("steprl.agents.jax.ddpg", "DDPG"),
        "DDQN": AgentEntry("steprl.agents.jax.dqn", "DDQN"),
        "DQN": AgentEntry("steprl.agents.jax.dqn", "DQN"),
        "PPO": AgentEntry("steprl.agents.jax.ppo", "PPO"),
        "RPO": AgentEntry("steprl.agents.jax.rpo", "RPO"),
        "SAC": AgentEntry("steprl.agents.jax.sac", "SAC"),
        "TD3": AgentEntry("steprl.agents.jax.td3", "TD3"),
        "IPPO": AgentEntry("steprl.multi_agents.jax.ippo", "IPPO", multi_agent=True),
        "MAPPO": AgentEntry("steprl.multi_agents.jax.mappo", "MAPPO", multi_agent=True, value_sees_state=True),
    },
}

# ``models.<role>.class`` -> model instantiator
MODELS: dict[str, dict[str, Location]] = {
    "torch": {
        mixin: Location("steprl.utils.model_instantiators.torch", function)
        for mixin, function in (
            ("GaussianMixin", "gaussian_model"),
            ("MultivariateGaussianMixin", "multivariate_gaussian_model"),
            ("DeterministicMixin", "deterministic_model"),
            ("CategoricalMixin", "categorical_model"),
            ("MultiCategoricalMixin", "multicategorical_model"),
        )
    },
    "jax": {
        mixin: Location("steprl.utils.model_instantiators.jax", function)
        for mixin, function in (
            ("GaussianMixin", "gaussian_model"),
            ("DeterministicMixin", "deterministic_model"),
            ("CategoricalMixin", "categorical_model"),
            ("MultiCategoricalMixin", "multicategorical_model"),
        )
    },
}

# ``models.separate: false``: one module with a shared trunk (backends without one build separate models)
SHARED_MODEL: dict[str, Location | None] = {
    "torch": Location("steprl.utils.model_instantiators.torch", "shared_model"),
    "jax": None,
}

MEMORIES: dict[str, dict[str, Location]] = {
    backend: {"RandomMemory": Location(f"steprl.memories.{backend}", "RandomMemory")} for backend in BACKENDS
}

TRAINERS: dict[str, dict[str, TrainerEntry]] = {
    backend: {
        "SequentialTrainer": TrainerEntry(
            f"steprl.trainers.{backend}", "SequentialTrainer", "SEQUENTIAL_TRAINER_DEFAULT_CONFIG"
        ),
    }
    for backend in BACKENDS
}
TRAINERS["torch"]["ParallelTrainer"] = TrainerEntry(
    "steprl.trainers.torch", "ParallelTrainer", "PARALLEL_TRAINER_DEFAULT_CONFIG"
)

# agent keys ``state_preprocessor``, ``value_preprocessor``, ``shared_state_preprocessor``
PREPROCESSORS: dict[str, dict[str, Location]] = {
    backend: {"RunningStandardScaler": Location(f"steprl.resources.preprocessors.{backend}", "RunningStandardScaler")}
    for backend in BACKENDS
}

# agent key ``learning_rate_scheduler``
SCHEDULERS: dict[str, dict[str, Location]] = {
    "torch": {
        "KLAdaptiveLR": Location("steprl.resources.schedulers.torch", "KLAdaptiveLR"),
        "KLAdaptiveRL": Location("steprl.resources.schedulers.torch", "KLAdaptiveLR"),
        "LinearLR": Location("torch.optim.lr_scheduler", "LinearLR"),
        "StepLR": Location("torch.optim.lr_scheduler", "StepLR"),
        "ExponentialLR": Location("torch.optim.lr_scheduler", "ExponentialLR"),
    },
    "jax": {
        "KLAdaptiveLR": Location("steprl.resources.schedulers.jax", "KLAdaptiveLR"),
        "KLAdaptiveRL": Location("steprl.resources.schedulers.jax", "KLAdaptiveLR"),
    },
}
