"""A STRIPE-kit env on Isaac Lab's Warp managers."""

from __future__ import annotations

import os

import warp as wp
from isaaclab_experimental.envs import ManagerBasedRLEnvWarp
from isaaclab_experimental.utils.manager_call_switch import ManagerCallSwitch

from ..task.env import StripeEnvCfg, StripeEnvMixin
from ..task.mdp import physics_diverged
from .task import mdp as twins


EAGER_ON_CPU = {"default": 1}
"""Manager call modes on a CPU: every manager's Warp twins, launched eagerly (Isaac Lab's capture needs CUDA)."""


class StripeEnvWarp(StripeEnvMixin, ManagerBasedRLEnvWarp):
    """:class:`~stripe_kit.task.env.StripeEnv` on Isaac Lab's Warp frontend: the same generated scene, obstacles that
    follow the robots (one kernel launch before each step and after each reset) and sensors, with the observation,
    reward, termination, action and event terms replaced by their Warp twins. Build it with
    :class:`~stripe_kit.warp.StripeWarpFrontend`."""

    divergence_funcs = (physics_diverged, twins.physics_diverged)

    def __init__(self, cfg: StripeEnvCfg, render_mode: str | None = None, **kwargs):
        if (cfg.manager_call_config is None and not str(cfg.sim.device).startswith("cuda")
                and ManagerCallSwitch.ENV_VAR not in os.environ):
            cfg.manager_call_config = dict(EAGER_ON_CPU)
        super().__init__(cfg, render_mode, **kwargs)

    def _zero_rewards_of_diverged(self) -> None:
        """As on the torch managers: the Warp reward manager keeps its episode sums in one (terms, envs) array."""
        if getattr(self, "reward_buf", None) is None:
            return
        sums = wp.to_torch(self.reward_manager._episode_sums_wp)
        for name in self._divergence_terms:
            diverged = self.termination_manager.get_term(name)
            self.reward_buf.masked_fill_(diverged, 0.0)
            sums.masked_fill_(diverged[None], 0.0)
