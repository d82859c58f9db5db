"""Isaac Lab's Warp frontend, taught where STRIPE-kit's twins live and which env class runs a STRIPE-kit task."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from isaaclab_experimental.envs.frontend import WarpFrontend

TWIN_ROOT = "stripe_kit.warp"
"""Mirror of the ``stripe_kit`` package holding the Warp twins of its terms."""
TWIN_ROOTS: set[str] = set()
"""Every mirror registered with :func:`register_twin_package` (the packages whose twins are checked by
:func:`~stripe_kit.warp.checks.twin_differences`)."""


def register_twin_package(package: str = "stripe_kit", twins: str = TWIN_ROOT) -> None:
    """Let Isaac Lab's :class:`WarpFrontend` find the twins of ``package``'s terms in the package ``twins``.

    Resolution stays Isaac Lab's: ``stripe_kit.task.mdp.terminations.off_terrain`` has its twin ``off_terrain`` in
    the nearest ``mdp`` package of the mirrored path, ``stripe_kit.warp.task.mdp``. A user's task package registers
    its own mirror the same way (``register_twin_package("my_tasks", "my_tasks_warp")``). The mirror goes into
    ``WarpFrontend``'s own table, not a subclass's, because Isaac Lab's Warp env adapts every cfg with
    ``WarpFrontend`` itself (``ManagerBasedRLEnvWarp.__init__``), whichever frontend built it. Idempotent.

    Args:
        package: Top-level package of the torch terms.
        twins: Package that mirrors it with the Warp twins.
    """
    TWIN_ROOTS.add(twins)
    if WarpFrontend.MIRROR_ROOTS.get(package) != twins:
        WarpFrontend.MIRROR_ROOTS = {package: twins, **WarpFrontend.MIRROR_ROOTS}
        WarpFrontend.WARP_ROOT_PREFIXES = (twins, *WarpFrontend.WARP_ROOT_PREFIXES)


class StripeWarpFrontend(WarpFrontend):
    """:class:`WarpFrontend` that builds a STRIPE-kit task as a :class:`~stripe_kit.warp.env.StripeEnvWarp` (its
    generated scene, following obstacles and sensors) and resolves twins of ``stripe_kit`` terms.

    A term without a twin fails the build in one error listing every missing twin; ``check_compatibility`` returns
    that list instead.
    """

    @classmethod
    def _build_manager_env(cls, env_cfg: Any, **construct_kwargs: Any) -> gym.Env:
        from ..task.env import StripeEnvCfg

        if isinstance(env_cfg, StripeEnvCfg):
            from .env import StripeEnvWarp

            return StripeEnvWarp(cfg=env_cfg, **construct_kwargs)
        return super()._build_manager_env(env_cfg, **construct_kwargs)
