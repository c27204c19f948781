"""skrl's JAX ``Adam``: an immutable optimizer (optax transformation + state) bound to one model."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import optax

__all__ = ["Adam", "AdamOptimizer", "adam_transformation", "learning_rate_of", "with_learning_rate"]


def adam_transformation(lr: Any, grad_norm_clip: float = 0.0, scale: bool = True) -> optax.GradientTransformation:
    """``[clip_by_global_norm] → adam`` with the learning rate (a number or an optax schedule ``count -> lr``) as an
    injected hyperparameter, changeable inside ``jit`` (:func:`with_learning_rate`); ``scale=False``: Adam's direction
    only (the caller applies the rate)."""
    if scale:
        adam = optax.inject_hyperparams(optax.adam)(learning_rate=lr)
    else:
        adam = optax.scale_by_adam()
    clip = optax.clip_by_global_norm(grad_norm_clip) if grad_norm_clip > 0 else optax.identity()
    return optax.chain(clip, adam)


def learning_rate_of(state: Any) -> Any:
    """The injected learning rate of an :func:`adam_transformation` state (``None`` when built with ``scale=False``)."""
    hyperparams = getattr(state[1], "hyperparams", None)
    return None if hyperparams is None else hyperparams["learning_rate"]


def with_learning_rate(state: Any, lr: Any) -> Any:
    """``state`` with its injected learning rate set to ``lr`` (pure; works on traced values)."""
    hyperparams = {**state[1].hyperparams, "learning_rate": lr}
    return (state[0], state[1]._replace(hyperparams=hyperparams))


class AdamOptimizer(flax.struct.PyTreeNode):
    """What :func:`Adam` returns: fields ``transformation`` and ``state`` (immutable; ``step`` returns a new one)."""

    transformation: optax.GradientTransformation = flax.struct.field(pytree_node=False)
    state: Any = None
    scale: bool = flax.struct.field(pytree_node=False, default=True)

    def step(self, grad: Any, model: Any, lr: float | None = None) -> AdamOptimizer:
        """Apply ``grad`` to ``model``'s parameters; returns the optimizer with its new state."""
        if not self.scale and lr is None:
            raise ValueError("This Adam was built with scale=False: pass the learning rate to step(grad, model, lr)")
        params = model.state_dict.params
        updates, state = self.transformation.update(grad, self.state, params)
        if not self.scale:
            updates = jax.tree_util.tree_map(lambda u: -lr * u, updates)
        elif lr is not None:
            updates, state = self.transformation.update(grad, with_learning_rate(self.state, lr), params)
        model.state_dict = model.state_dict.replace(params=optax.apply_updates(params, updates))
        return self.replace(state=state)


def Adam(model: Any, lr: Any = 1e-3, grad_norm_clip: float = 0.0, scale: bool = True) -> AdamOptimizer:  # noqa: N802
    """skrl's JAX ``Adam(model, lr=1e-3, grad_norm_clip=0, scale=True)``.

    ``step(grad, model, lr=None)`` returns the next optimizer and writes the updated parameters into
    ``model.state_dict``; with ``scale=False`` the learning rate must be given to ``step``. ``grad_norm_clip > 0``
    clips the global gradient norm first.
    """
    if getattr(model, "state_dict", None) is None:
        raise ValueError("Adam needs an initialised model: call model.init_state_dict(role) first")
    if scale and not callable(lr) and not float(lr) > 0:
        raise ValueError(f"Adam lr must be > 0 (or an optax schedule), got {lr}")
    transformation = adam_transformation(lr if callable(lr) else float(lr), float(grad_norm_clip), scale)
    return AdamOptimizer(transformation=transformation, state=transformation.init(model.state_dict.params), scale=scale)
