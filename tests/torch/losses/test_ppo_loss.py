"""PPO/RPO: the clipped surrogate, value clipping, the entropy term and the KL estimate against hand-computed cases
(values and gradients), and the ``kl_threshold`` early stop counted in optimizer steps."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest
import torch
from helpers.envs import CountingEnv
from helpers.loss_cases import PPO_CASES
from helpers.models import CategoricalPolicy, Value
from helpers.ppo import NO_LOGS, QUIET

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.agents.torch.ppo import ppo as ppo_module
from steprl.agents.torch.ppo.losses import ppo_loss
from steprl.agents.torch.rpo import RPO, RPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer

GRAD_INPUTS = ("log_prob", "predicted_values", "entropy")


def _evaluate(case: dict[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The case's loss in float64, with gradients of the total loss w.r.t. log_prob, predicted_values, entropy."""
    inputs = {k: torch.tensor(v, dtype=torch.float64).view(-1, 1) for k, v in case["inputs"].items()}
    for name in GRAD_INPUTS:
        inputs[name].requires_grad_(True)
    total, parts = ppo_loss(**inputs, **case["kwargs"])
    total.backward()
    grads = {n: torch.zeros_like(inputs[n]) if inputs[n].grad is None else inputs[n].grad for n in GRAD_INPUTS}
    return total, parts, grads


@pytest.mark.parametrize("case", PPO_CASES, ids=[c["id"] for c in PPO_CASES])
def test_loss_parts_equal_the_hand_computation(case: dict[str, Any]) -> None:
    total, parts, _ = _evaluate(case)
    expected = case["expected"]
    for name in ("policy_loss", "value_loss", "entropy_loss", "kl"):
        assert parts[name].item() == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name
        assert parts[name].dim() == 0
    assert total.item() == pytest.approx(expected["total"], rel=1e-12)
    assert not parts["kl"].requires_grad  # a diagnostic: it must not feed the gradient


@pytest.mark.parametrize("case", PPO_CASES, ids=[c["id"] for c in PPO_CASES])
def test_gradients_equal_the_hand_computation(case: dict[str, Any]) -> None:
    _, _, grads = _evaluate(case)
    for name in GRAD_INPUTS:
        torch.testing.assert_close(grads[name].view(-1).tolist(), case["grad"][name], rtol=1e-12, atol=1e-15, msg=name)


def test_clipped_rows_get_no_policy_gradient() -> None:
    """Rows 0 (ratio 1.5, A > 0) and 3 (ratio 0.5, A < 0) sit on the clipped branch: exactly zero gradient there,
    while the rows on the other side of the clip range (1 and 2) still get one."""
    _, _, grads = _evaluate(PPO_CASES[0])
    log_prob_grad = grads["log_prob"].view(-1)
    assert log_prob_grad[0].item() == 0.0 and log_prob_grad[3].item() == 0.0
    assert (log_prob_grad[[1, 2, 4, 5]] != 0).all()
    _, _, clipped = _evaluate(PPO_CASES[1])  # value clipping: rows 0, 2, 4 outside old ± 0.2
    assert clipped["predicted_values"].view(-1)[[0, 2, 4]].tolist() == [0.0, 0.0, 0.0]


def test_entropy_is_in_the_gradient_with_its_scale() -> None:
    case = PPO_CASES[0]
    base = {**case["kwargs"], "entropy_loss_scale": 0.5}
    inputs = {k: torch.tensor(v, dtype=torch.float64).view(-1, 1) for k, v in case["inputs"].items()}
    entropy = inputs.pop("entropy").requires_grad_(True)
    total, parts = ppo_loss(**inputs, entropy=entropy, **base)
    total.backward()
    assert parts["entropy_loss"].item() == pytest.approx(-0.5 * 1.0)
    torch.testing.assert_close(entropy.grad, torch.full_like(entropy, -0.5 / 6))
    _, none = ppo_loss(**inputs, entropy=None, **base)  # no entropy given: no bonus
    assert none["entropy_loss"].item() == 0.0


# --------------------------------------------------------------------------------------------- the KL early stop
def _counting_env(length: int, tag: int) -> CountingEnv:
    """A counting sub-environment whose spaces are seeded (the vector env copies their generators)."""
    env = CountingEnv(length=length, tag=tag)
    env.action_space.seed(tag)
    env.observation_space.seed(tag)
    return env


def _agent(cls: type, cfg_defaults: dict[str, Any], **cfg: Any) -> tuple[Any, ManualTrainer, list[int]]:
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: _counting_env(3, 0), lambda: _counting_env(4, 1)]), verbose=False)
    config = cfg_defaults.copy()
    config.update(rollouts=8, learning_epochs=4, mini_batches=2, learning_rate=1e-2, experiment=dict(NO_LOGS), **cfg)
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space),
        "value": Value(env.observation_space),
    }
    agent = cls(
        models=models,
        memory=RandomMemory(memory_size=8, num_envs=2),
        cfg=config,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    steps: list[int] = []
    original = agent._optimizer_step

    def counting(*args: Any, **kwargs: Any) -> Any:
        steps.append(1)
        return original(*args, **kwargs)

    agent._optimizer_step = counting
    return agent, trainer, steps


AGENTS = [(PPO, PPO_DEFAULT_CONFIG), (RPO, RPO_DEFAULT_CONFIG)]


@pytest.mark.parametrize(("cls", "defaults"), AGENTS, ids=["PPO", "RPO"])
def test_kl_threshold_stops_the_update_early(cls: type, defaults: dict[str, Any]) -> None:
    """The first mini-batch starts at the rollout's policy (KL 0): one step; every later mini-batch measures the KL
    of the moved policy, above the threshold, and is skipped (in every epoch): 1 step instead of 4 x 2."""
    torch.manual_seed(0)
    agent, trainer, steps = _agent(cls, defaults, kl_threshold=1e-9)
    for _ in range(8):
        trainer.train()
    assert len(steps) == 1
    torch.manual_seed(0)
    agent, trainer, steps = _agent(cls, defaults, kl_threshold=1e3)  # never reached: every step runs
    for _ in range(8):
        trainer.train()
    assert len(steps) == 4 * 2


@pytest.mark.parametrize(("cls", "defaults"), AGENTS, ids=["PPO", "RPO"])
def test_update_passes_the_configured_clips_and_scales(cls: type, defaults: dict[str, Any], monkeypatch: Any) -> None:
    """The agents' update feeds its configuration to the loss tested above, with old log-probs of the rollout's
    policy (ratio 1 on the first mini-batch)."""
    seen: list[tuple[tuple, dict]] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append((args, kwargs))
        return ppo_loss(*args, **kwargs)

    monkeypatch.setattr(ppo_module, "ppo_loss", spy)
    _, trainer, _ = _agent(
        cls,
        defaults,
        ratio_clip=0.3,
        value_clip=0.4,
        clip_predicted_values=True,
        entropy_loss_scale=0.05,
        value_loss_scale=0.7,
    )
    for _ in range(8):
        trainer.train()
    assert len(seen) == 8
    args, _ = seen[0]
    log_prob, old_log_prob = args[0], args[1]
    torch.testing.assert_close(log_prob.detach(), old_log_prob, rtol=1e-5, atol=1e-5)
    assert args[6] is not None  # the entropy is computed when it is scaled
    assert args[7:] == (0.3, 0.4, True, 0.05, 0.7)
