"""Check a Warp-frontend env's STRIPE-kit twins against their torch terms on the env's current state."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import torch
import warp as wp

from .frontend import TWIN_ROOTS


def twin_differences(env: Any, torch_cfg: Any) -> dict[str, tuple[float, int]]:
    """How far each STRIPE-kit twin of a Warp-frontend env is from its torch term, now.

    Every observation, reward and termination term of ``env`` whose function lives in a registered twin package
    (:mod:`stripe_kit.warp`, and a user's registered with :func:`~stripe_kit.warp.register_twin_package`) is called
    into a fresh array beside the torch function that ``torch_cfg`` (the same task's config, not adapted by the
    frontend) names for it, with the term's parameters, on the env's current state.

    Args:
        env: The unwrapped env built by :class:`~stripe_kit.warp.StripeWarpFrontend`.
        torch_cfg: The task's env config as the torch managers run it.

    Returns:
        ``"<manager>.<term>"`` to (the largest absolute difference over envs and values, or for terminations the
        number of envs flagged differently; the number of envs where the torch term is not zero, which says
        whether the check exercised the term).
    """
    differences = {}
    for label, term_cfg, torch_func, width in _twinned_terms(env, torch_cfg):
        if inspect.isclass(torch_func):
            continue  # a stateful torch term would need its own instance; none of STRIPE-kit's terms is one
        params = dict(term_cfg.params)
        flags = label.startswith("terminations.")
        shape = (env.num_envs,) if width is None else (env.num_envs, width)
        out = wp.zeros(shape, dtype=wp.bool if flags else wp.float32, device=env.device)
        term_cfg.func(env, out, **params)  # first: a ray twin casts its sensor, whose data the torch term reads
        expected = torch_func(env, **params)
        got, expected = wp.to_torch(out).reshape(env.num_envs, -1), expected.reshape(env.num_envs, -1)
        active = int((expected != 0).any(dim=1).sum())
        if flags:
            differences[label] = (float((got != expected).any(dim=1).sum()), active)
        else:
            differences[label] = (float((got - expected).abs().max()), active)
    return differences


def _twinned_terms(env: Any, torch_cfg: Any) -> Iterator[tuple[str, Any, Any, int | None]]:
    """(label, the env's term cfg, the torch function, observation width or None) of each STRIPE-kit twin."""
    observations = env.observation_manager
    for group, names in observations._group_obs_term_names.items():
        for name, term_cfg in zip(names, observations._group_obs_term_cfgs[group]):
            if _is_twin(term_cfg.func):
                yield (f"observations.{group}.{name}", term_cfg,
                       getattr(getattr(torch_cfg.observations, group), name).func, term_cfg._term_dim)
    for manager, section in ((env.reward_manager, "rewards"), (env.termination_manager, "terminations")):
        for name, term_cfg in zip(manager._term_names, manager._term_cfgs):
            if _is_twin(term_cfg.func):
                yield f"{section}.{name}", term_cfg, getattr(getattr(torch_cfg, section), name).func, None


def _is_twin(func: Any) -> bool:
    """Whether a term function (or a class-based term's instance) is a twin of a registered package's term."""
    module = getattr(func, "__module__", None) or type(func).__module__
    return any(module.startswith(root + ".") for root in TWIN_ROOTS)
