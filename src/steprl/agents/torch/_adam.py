"""``torch.optim.Adam`` with a lean step: the fused kernel called directly, nothing imported on the way.

``torch.optim.Optimizer`` wraps ``add_param_group``, ``zero_grad``, ``state_dict`` and ``load_state_dict`` in a
"disable dynamo" decorator and ``Adam.step`` in a grad-mode helper, each of which imports ``torch._dynamo`` (over a
second of start-up) and adds Python overhead to every step. :class:`LeanAdam` is a ``torch.optim.Adam`` (schedulers,
checkpoints and user code see the same class, state layout and hyperparameters) whose plain case — float learning
rate, no AMSGrad/capturable/differentiable, no closure, every parameter on a device with the fused kernel — runs
``torch._fused_adam_`` itself; every other case falls back to ``torch.optim.Adam.step``. Its updates equal those
of ``torch.optim.Adam(fused=True)`` exactly (the same kernel with the same arguments).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

__all__ = ["LeanAdam", "make_adam"]


def _undecorated(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function under torch's "disable dynamo" wrapper (which keeps it as ``__wrapped__``)."""
    return getattr(function, "__wrapped__", function)


_FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu")
_FUSED_KERNEL = getattr(torch, "_fused_adam_", None)  # the kernel torch.optim.Adam(fused=True) runs


class LeanAdam(torch.optim.Adam):
    """Fused Adam without the per-step and start-up overhead of the generic optimizer machinery."""

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3) -> None:
        super().__init__(params, lr=lr, fused=True)
        # a gradient scaler unscales the gradients itself (and skips steps with non-finite ones) before calling step()
        self._step_supports_amp_scaling = False

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop (or zero) every gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    def _lean_group(self, group: dict[str, Any]) -> tuple[list[torch.Tensor], ...] | None:
        """``(params, grads, exp_avgs, exp_avg_sqs, steps)`` of the group's parameters with a gradient, states created
        on first use as ``torch.optim.Adam(fused=True)`` creates them; ``None`` when the lean path does not apply."""
        if (_FUSED_KERNEL is None or group["amsgrad"] or group["capturable"] or group["differentiable"] or group["maximize"]
                or isinstance(group["lr"], torch.Tensor) or group.get("decoupled_weight_decay", False)):
            return None
        params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse or p.device.type not in _FUSED_DEVICES or not p.is_floating_point():
                return None
            state = self.state[p]
            if not state:
                state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            steps.append(state["step"])
        if len({(p.device, p.dtype) for p in params}) > 1:
            return None
        return params, grads, exp_avgs, exp_avg_sqs, steps

    def _generic_step(self, closure: Callable[[], float] | None) -> float | None:
        """``torch.optim.Adam.step`` without the hook wrapper torch adds to it (ours already ran the hooks)."""
        step = torch.optim.Adam.step
        if getattr(step, "hooked", False):
            step = step.__wrapped__
        return step(self, closure)

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One Adam step over every parameter with a gradient (the generic path for closures and unusual groups).

        Step hooks and the profiler label are added around it by ``torch.optim.Optimizer``, as for any optimizer."""
        if closure is not None:
            return self._generic_step(closure)
        lean = [self._lean_group(group) for group in self.param_groups]
        if any(lists is None for lists in lean):
            return self._generic_step(closure)
        with torch.no_grad():
            for group, (params, grads, exp_avgs, exp_avg_sqs, steps) in zip(self.param_groups, lean):  # type: ignore[misc]
                if not params:
                    continue
                torch._foreach_add_(steps, 1)
                beta1, beta2 = group["betas"]
                _FUSED_KERNEL(
                    params, grads, exp_avgs, exp_avg_sqs, [], steps,
                    amsgrad=False, lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                    weight_decay=float(group["weight_decay"]), eps=float(group["eps"]), maximize=False,
                    grad_scale=None, found_inf=None,
                )
        return None


def make_adam(params: list[torch.nn.Parameter], lr: float) -> torch.optim.Adam:
    """Adam with the fused kernel, stepped without the generic optimizer overhead (:class:`LeanAdam`); plain Adam
    where the fused kernel is unavailable."""
    try:
        return LeanAdam(params, lr=lr)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(params, lr=lr)
