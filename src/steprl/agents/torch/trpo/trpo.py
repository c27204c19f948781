"""Trust Region Policy Optimization (Schulman et al., 2015) with correct truncation bootstrapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from steprl.agents.torch.on_policy import OnPolicyAgent
from steprl.agents.torch.trpo.losses import (
    backtracking_line_search,
    conjugate_gradient,
    detached_distribution,
    fisher_vector_product,
    flat_grad,
    mean_kl,
    surrogate_objective,
)
from steprl.core.agent import AGENT_EXPERIMENT_DEFAULTS
from steprl.core.cfg import DefaultConfig, merge_config
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.utils.distributed import torch as distributed

__all__ = ["TRPO", "TRPO_DEFAULT_CONFIG"]

# fmt: off
TRPO_DEFAULT_CONFIG: dict[str, Any] = DefaultConfig({
    "rollouts": 16,                 # number of rollouts before updating
    "learning_epochs": 8,           # number of learning epochs during each update
    "mini_batches": 2,              # number of mini batches during each learning epoch

    "discount_factor": 0.99,        # discount factor (gamma)
    "lambda": 0.95,                 # TD(lambda) coefficient (lam) for computing returns and advantages

    "value_learning_rate": 1e-3,            # value learning rate
    "learning_rate_scheduler": None,        # learning rate scheduler class (see torch.optim.lr_scheduler)
    "learning_rate_scheduler_kwargs": {},   # learning rate scheduler's kwargs (e.g. {"step_size": 1e-3})

    "state_preprocessor": None,             # state preprocessor class (see steprl.resources.preprocessors)
    "state_preprocessor_kwargs": {},        # state preprocessor's kwargs (e.g. {"size": env.observation_space})
    "value_preprocessor": None,             # value preprocessor class (see steprl.resources.preprocessors)
    "value_preprocessor_kwargs": {},        # value preprocessor's kwargs (e.g. {"size": 1})

    "random_timesteps": 0,          # random exploration steps
    "learning_starts": 0,           # learning starts after this many steps

    "grad_norm_clip": 0.5,          # clipping coefficient for the norm of the (value) gradients
    "value_loss_scale": 1.0,        # value loss scaling factor

    "damping": 0.1,                     # damping coefficient for computing the Hessian-vector product
    "max_kl_divergence": 0.01,          # maximum KL divergence between old and new policy
    "conjugate_gradient_steps": 10,     # maximum number of iterations for the conjugate gradient algorithm
    "max_backtrack_steps": 10,          # maximum number of backtracking steps during line search
    "accept_ratio": 0.5,                # accept ratio for the line search loss improvement
    "step_fraction": 1.0,               # fraction of the step size for the line search

    "rewards_shaper": None,         # rewards shaping function: Callable(reward, timestep, timesteps) -> reward
    "time_limit_bootstrap": False,  # accepted for skrl compatibility: steprl always bootstraps truncated episodes

    "experiment": dict(AGENT_EXPERIMENT_DEFAULTS),
})
# fmt: on


_rank_mean = distributed.mean_over_ranks  # the mean over the ranks of a distributed run (the tensor otherwise)


class TRPO(OnPolicyAgent):
    """Trust Region Policy Optimization.

    Per update, as in skrl: the policy takes one natural-gradient step on the whole rollout — the surrogate's
    gradient ``g``, the direction ``x ≈ (F + damping·I)⁻¹ g`` by ``conjugate_gradient_steps`` of conjugate
    gradient on Fisher-vector products (double backward of the mean KL), the step ``sqrt(2·max_kl / xᵀFx) · x``,
    then a backtracking line search that accepts only a step with KL ≤ ``max_kl_divergence`` whose surrogate improved
    by at least ``accept_ratio`` times the linear prediction (else the parameters are restored exactly); then the value
    network takes ``learning_epochs`` passes of ``mini_batches`` Adam steps (``value_learning_rate``) on the scaled
    MSE. A ``KLAdaptiveLR`` scheduler (on the value optimizer) gets the policy step's KL. The policy and value must
    be separate models. The rollout machinery lives in :class:`~steprl.agents.torch.on_policy.OnPolicyAgent`.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        cfg = merge_config(TRPO_DEFAULT_CONFIG, cfg, where="TRPO cfg")
        super().__init__(models, memory, observation_space, action_space, device, cfg, "TRPO")
        if self.value is not None and self.value is self.policy:
            raise ValueError("TRPO needs separate 'policy' and 'value' models (the policy takes natural-gradient steps)")
        c = self.cfg
        self._value_learning_rate = float(c["value_learning_rate"])
        self._value_loss_scale = float(c["value_loss_scale"])
        self._damping = float(c["damping"])
        self._max_kl_divergence = float(c["max_kl_divergence"])
        self._conjugate_gradient_steps = int(c["conjugate_gradient_steps"])
        self._max_backtrack_steps = int(c["max_backtrack_steps"])
        self._accept_ratio = float(c["accept_ratio"])
        self._step_fraction = float(c["step_fraction"])
        for key in ("max_kl_divergence", "step_fraction"):
            if float(c[key]) <= 0:
                raise ValueError(f"TRPO cfg['{key}'] must be > 0, got {c[key]}")
        for key in ("conjugate_gradient_steps", "max_backtrack_steps"):
            if int(c[key]) < 1:
                raise ValueError(f"TRPO cfg['{key}'] must be >= 1, got {c[key]}")
        if self._damping < 0:
            raise ValueError(f"TRPO cfg['damping'] must be >= 0, got {self._damping}")

        self.value_optimizer: torch.optim.Optimizer | None = None
        if self.value is not None:
            self._build_optimizer(list(self.value.parameters()), self._value_learning_rate, "value_optimizer")
            self.value_optimizer = self.optimizer

    # ------------------------------------------------------------------ learning
    def _update(self, timestep: int, timesteps: int) -> None:
        """One natural-gradient policy step on the whole rollout, then ``learning_epochs`` passes of ``mini_batches``
        Adam steps of the value network."""
        assert self.value_optimizer is not None
        self._prepare_rollout()
        policy_inputs, old_log_prob, advantages = self._policy_batch()
        policy_params = [p for p in self.policy.parameters() if p.requires_grad]
        objective, kl, accepted = self._policy_step(policy_inputs, old_log_prob, advantages, policy_params)

        value_params = self.value_optimizer.param_groups[0]["params"]
        value_losses: list[torch.Tensor] = []
        for _ in range(self._learning_epochs):
            for batch, _, value_inputs in self._minibatches():
                states, returns = batch[0], batch[4]
                states = self._state_preprocessor(states)
                predicted_values = self.value.act({"states": states, **value_inputs}, role="value")[0]
                value_loss = self._value_loss_scale * F.mse_loss(returns, predicted_values)
                self._optimizer_step(self.value_optimizer, value_loss, [self.value], value_params)
                self._scaler.update()
                value_losses.append(value_loss.detach())
            if not isinstance(self.scheduler, KLAdaptiveLR):
                self._step_scheduler(None)  # other schedulers step once per epoch, as in PPO
        if isinstance(self.scheduler, KLAdaptiveLR):
            self._step_scheduler(kl)  # once per update: there is one policy step
        self._track_losses({"policy_loss": [-objective], "value_loss": value_losses}, kl)
        if self.write_interval > 0:
            self.track_data("Policy / Accepted steps", float(accepted))

    def _policy_batch(self) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor]:
        """The whole rollout for the policy step: ``(policy inputs, old log-probs, advantages)`` (``TRPO_RNN`` gives
        whole sequences instead)."""
        [batch] = self.memory.sample_all(names=("states", "actions", "log_prob", "advantages"), mini_batches=1)
        states, actions, old_log_prob, advantages = batch
        inputs = {"states": self._state_preprocessor(states, train=True), "taken_actions": actions,
                  **self._rollout_policy_inputs()}
        return inputs, old_log_prob, advantages

    def _policy_step(
        self,
        inputs: Mapping[str, Any],
        old_log_prob: torch.Tensor,
        advantages: torch.Tensor,
        params: Sequence[torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """One natural-gradient step with line search on a minibatch: ``(objective, kl, accepted)`` after it
        (``objective`` and ``kl`` detached; the unchanged objective and 0 when the step was rejected)."""
        _, log_prob, _ = self.policy.act(inputs, role="policy")
        distribution = self.policy.distribution(role="policy")
        if distribution is None:
            raise TypeError("TRPO: the policy model must provide distribution() (e.g. GaussianMixin, CategoricalMixin)")
        old_distribution = detached_distribution(distribution)
        objective = surrogate_objective(log_prob, old_log_prob, advantages)
        gradient = _rank_mean(flat_grad(objective, params, retain_graph=True))
        kl_gradient = flat_grad(mean_kl(old_distribution, distribution), params, create_graph=True)

        def fvp(vector: torch.Tensor) -> torch.Tensor:
            return _rank_mean(fisher_vector_product(kl_gradient, params, vector, self._damping))

        direction = conjugate_gradient(fvp, gradient, self._conjugate_gradient_steps)
        curvature = direction @ fvp(direction)
        full_step = torch.sqrt(2.0 * self._max_kl_divergence / curvature.clamp_min(1e-12)) * direction
        expected_improvement = gradient @ full_step
        last: dict[str, torch.Tensor] = {}

        def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
            _, new_log_prob, _ = self.policy.act(inputs, role="policy")
            last["objective"] = _rank_mean(surrogate_objective(new_log_prob, old_log_prob, advantages))
            last["kl"] = _rank_mean(mean_kl(old_distribution, self.policy.distribution(role="policy")))
            return last["objective"], last["kl"]

        objective = _rank_mean(objective.detach())
        ok, _ = backtracking_line_search(
            params,
            full_step.detach(),
            expected_improvement.detach(),
            evaluate,
            objective,
            self._max_kl_divergence,
            self._max_backtrack_steps,
            self._accept_ratio,
            self._step_fraction,
        )
        if ok:
            return last["objective"], last["kl"], True
        return objective, torch.zeros_like(objective), False
