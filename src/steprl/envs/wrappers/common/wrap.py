"""Picking the wrapper for an environment (tag detection from the class hierarchy), shared by every backend."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from steprl import logger
from steprl.envs.wrappers.common.base import MultiAgentEnvWrapper, Wrapper
from steprl.envs.wrappers.common.gymnasium_core import is_vector_env

AVAILABLE_TAGS = ("gymnasium",)
KNOWN_TAGS = (
    "auto",
    "gymnasium",
    "gym",
    "dm",
    "robosuite",
    "brax",
    "isaacgym-preview2",
    "isaacgym-preview3",
    "isaacgym-preview4",
    "omniverse-isaacgym",
    "isaaclab",
    "isaaclab-single-agent",
    "isaaclab-multi-agent",
    "isaac-orbit",
    "pettingzoo",
    "bidexhands",
    "vmas",
)

# (pattern over "module.ClassName" of every class in the MROs, tag), matched in this order of precedence
_DETECTION: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), tag)
    for pattern, tag in (
        (r"^(omni\.isaac\.lab|isaaclab)\.", "isaaclab"),
        (r"^omni\.isaac\.gym\.", "omniverse-isaacgym"),
        (r"^isaacgymenvs\.|^tasks\..*\.VecTask$", "isaacgym-preview4"),
        (r"^rlgpu\.tasks\..*\.VecTask$", "isaacgym-preview2"),
        (r"^brax\.envs\.", "brax"),
        (r"^robosuite\.environments\.", "robosuite"),
        (r"^dm_env\.", "dm"),
        (r"^pettingzoo\.utils\.(env|wrappers|conversions)", "pettingzoo"),
        (r"^vmas\.simulator\.environment\.", "vmas"),
        (r"^gymnasium\.", "gymnasium"),
        (r"^gym\.", "gym"),
    )
)


def environment_classes(env: Any) -> list[str]:
    """``module.ClassName`` of every class in the MRO of ``type(env)`` and ``type(env.unwrapped)``, in order."""
    types = [type(env)]
    try:
        unwrapped = env.unwrapped
    except Exception:  # noqa: BLE001 - any failure means there is no usable unwrapped env
        unwrapped = env
    if type(unwrapped) is not type(env):
        types.append(type(unwrapped))
    names: list[str] = []
    for cls in types:
        for base in cls.__mro__:
            name = f"{base.__module__}.{base.__name__}"
            if name not in names:
                names.append(name)
    return names


def detect_wrapper(env: Any) -> str:
    """The wrapper tag for ``env`` found from its class hierarchy; ``TypeError`` when none matches."""
    classes = environment_classes(env)
    for pattern, tag in _DETECTION:
        if any(pattern.search(name) for name in classes):
            return tag
    hint = (
        f" To wrap a registered environment create it first, e.g. wrap_env(gymnasium.make({env!r}))."
        if isinstance(env, str)
        else ""
    )
    raise TypeError(
        f"wrap_env could not identify the environment: got a {type(env).__name__} (classes: {', '.join(classes)}); "
        "expected a Gymnasium environment or vector environment (gymnasium.Env, gymnasium.vector.VectorEnv or a "
        f"wrapper of them), or pass the wrapper tag explicitly.{hint}"
    )


def build_wrapper(
    env: Any,
    wrapper: str,
    verbose: bool,
    backend: tuple[type, ...],
    gymnasium_wrapper: type,
    multi_agent: Mapping[str, type] | None = None,
    **kwargs: Any,
) -> Any:
    """What a backend's ``wrap_env`` returns: ``backend`` holds its wrapper base classes (an env already wrapped
    for it is returned unchanged), ``gymnasium_wrapper`` its Gymnasium wrapper class, ``multi_agent`` its
    multi-agent wrapper classes by tag (a list of PettingZoo envs is detected from its first element).
    """
    if isinstance(env, backend):
        return env
    if isinstance(env, (Wrapper, MultiAgentEnvWrapper)):
        raise TypeError(
            f"env is already a steprl wrapper of another backend ({type(env).__module__}.{type(env).__name__}): "
            "wrap the raw environment with this backend's wrap_env instead"
        )
    if not isinstance(wrapper, str):
        raise TypeError(f"wrapper must be a string tag, got {type(wrapper).__name__}: expected one of {KNOWN_TAGS}")
    tag = wrapper.lower()
    if tag not in KNOWN_TAGS:
        raise ValueError(f"Unknown wrapper type {wrapper!r}: expected one of {', '.join(KNOWN_TAGS)}")
    if tag == "auto":
        probe = env[0] if isinstance(env, (list, tuple)) and env else env
        tag = detect_wrapper(probe)
        if verbose:
            logger.info(f"Environment class: {', '.join(environment_classes(probe))}")
    available = {**dict.fromkeys(AVAILABLE_TAGS, gymnasium_wrapper), **(multi_agent or {})}
    if tag not in available:
        raise NotImplementedError(
            f"The '{tag}' environment wrapper is not available in steprl for this backend yet; available wrappers: "
            f"{', '.join(available)}"
        )
    if tag != "gymnasium":
        wrapped = available[tag](env, **kwargs)
        if verbose:
            logger.info(f"Environment wrapper: {type(wrapped).__name__} ({wrapped.num_envs} sub-envs)")
        return wrapped
    wrapped = gymnasium_wrapper(env, **kwargs)
    if verbose:
        kind = f"vector env, {wrapped.num_envs} sub-envs" if is_vector_env(env) else "single env"
        logger.info(f"Environment wrapper: Gymnasium ({type(env).__name__}, {kind})")
    return wrapped
