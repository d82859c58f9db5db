"""Curriculum terms: move environments to harder tiles as they succeed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from isaaclab.managers import SceneEntityCfg

if TYPE_CHECKING:
    from ..env import StripeEnv


def terrain_levels_by_distance(env: StripeEnv, env_ids: Sequence[int], promote_fraction: float = 0.5,
                               demote_fraction: float = 0.15,
                               asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Promote envs that crossed ``promote_fraction`` of a tile, demote those that moved less than ``demote_fraction``.

    Uses Isaac Lab's terrain importer (``update_env_origins``), so levels and origins follow its curriculum rules.

    Returns:
        The mean terrain level, logged by the curriculum manager.
    """
    terrain = env.scene.terrain
    ids = env.env_id_tensor(env_ids)
    base = env.scene[asset_cfg.name].data.root_pos_w.torch[ids, :2]
    walked = (base - terrain.env_origins[ids, :2]).norm(dim=1)
    tile = min(terrain.cfg.terrain_generator.size)
    move_up = walked > promote_fraction * tile
    move_down = (walked < demote_fraction * tile) & ~move_up
    terrain.update_env_origins(ids, move_up, move_down)
    return torch.mean(terrain.terrain_levels.float())


def terrain_levels_by_goal(env: StripeEnv, env_ids: Sequence[int], command_name: str = "goal",
                           demote_fraction: float = 0.5,
                           asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Promote envs that reached their goal; demote those that ended with over ``demote_fraction`` of the way left.

    Runs at reset, before the goal command is reset, so it reads the ending episode's goal and outcome
    (:meth:`SceneGoalCommand.succeeded`). Uses Isaac Lab's terrain importer, like :func:`terrain_levels_by_distance`.

    Returns:
        The mean terrain level, logged by the curriculum manager.
    """
    terrain = env.scene.terrain
    ids = env.env_id_tensor(env_ids)
    command = env.command_manager.get_term(command_name)
    reached = command.succeeded(ids)
    goal = command.pos_command_w[ids, :2]
    left = (goal - env.scene[asset_cfg.name].data.root_pos_w.torch[ids, :2]).norm(dim=1)
    way = (goal - terrain.env_origins[ids, :2]).norm(dim=1)
    terrain.update_env_origins(ids, reached, ~reached & (left > demote_fraction * way))
    return torch.mean(terrain.terrain_levels.float())
