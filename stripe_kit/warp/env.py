"""A STRIPE-kit env on Isaac Lab's Warp managers."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import warp as wp
from isaaclab_experimental.envs import ManagerBasedRLEnvWarp
from isaaclab_experimental.utils.manager_call_switch import ManagerCallSwitch

from ..task.env import StripeEnvCfg, StripeEnvMixin
from ..task.kernels import run_stage
from ..task.mdp import physics_diverged
from .task import mdp as twins


EAGER_ON_CPU = {"default": 1}
"""Manager call modes on a CPU: every manager's Warp twins, launched eagerly (Isaac Lab's capture needs CUDA)."""


@wp.kernel
def _zero_rewards_of_diverged_kernel(term_dones: wp.array2d(dtype=wp.bool), diverged_columns: wp.int32,
                                     reward: wp.array(dtype=wp.float32), episode_sums: wp.array2d(dtype=wp.float32)):
    """Zero one env's step reward and episode sums (terms, envs) if one of ``diverged_columns`` (a bit per
    termination term) fired for it."""
    e = wp.tid()
    diverged = bool(False)
    for column in range(term_dones.shape[1]):
        if ((diverged_columns >> column) & 1) == 1 and term_dones[e, column]:
            diverged = True
    if diverged:
        reward[e] = 0.0
        for term in range(episode_sums.shape[0]):
            episode_sums[term, e] = 0.0


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

    def reset_mask(self, env_ids: Sequence[int] | torch.Tensor | slice | None) -> wp.array:
        """The Warp frontend's reset mask, which its ``_reset_idx`` fills with ``env_ids`` before any manager resets
        them (a fixed buffer, so a stage that reads it can be captured)."""
        return self.reset_mask_wp

    def _zero_rewards_of_diverged(self) -> None:
        """As on the torch managers, in one kernel launch for every env (a captured stage): the Warp reward manager
        keeps its step rewards and its episode sums, (terms, envs), in Warp arrays."""
        if getattr(self, "reward_buf", None) is None or not self._divergence_terms:
            return
        run_stage(self, "Divergence_zero_rewards", self._launch_zero_rewards)

    def _launch_zero_rewards(self) -> None:
        terminations, rewards = self.termination_manager, self.reward_manager
        columns = sum(1 << terminations.active_terms.index(name) for name in self._divergence_terms)
        wp.launch(_zero_rewards_of_diverged_kernel, dim=self.num_envs,
                  inputs=[terminations.term_dones_wp, columns, rewards._reward_wp, rewards._episode_sums_wp],
                  device=self.device)
