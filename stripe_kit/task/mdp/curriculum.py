"""Curriculum terms: move environments to harder tiles as they succeed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from isaaclab.managers import SceneEntityCfg

from ...errors import SpecError

if TYPE_CHECKING:
    from ..env import StripeEnv


def terrain_levels_by_distance(env: StripeEnv, env_ids: Sequence[int], promote_fraction: float = 0.5,
                               demote_fraction: float = 0.15, failure_terms: Sequence[str] = (),
                               asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Promote envs that crossed ``promote_fraction`` of a tile without failing; demote those that failed or moved
    less than ``demote_fraction`` of it.

    A failure is one of ``failure_terms`` (termination terms such as ``collision`` or ``fallen``) firing on the
    ending step. Without failure terms, distance alone decides, as in Isaac Lab's ``terrain_levels_vel``: a robot
    that ran half a tile and then hit a tree moves up, which pushed the forest walk's fastest Ants into the densest
    rows, where half their episodes ended on a tree. Uses Isaac Lab's terrain importer (``update_env_origins``), so
    levels and origins follow its curriculum rules. Runs at reset, before the termination buffers are reset; envs
    that have not stepped (the env's first reset) keep their level.

    Returns:
        The mean terrain level, logged by the curriculum manager.

    Raises:
        SpecError: If a failure term is not a termination term of the task.
    """
    terrain = env.scene.terrain
    ids = env.env_id_tensor(env_ids)
    failed = _failure_mask(env, ids, failure_terms, "terrain_levels_by_distance")
    base = env.scene[asset_cfg.name].data.root_pos_w.torch[ids, :2]
    walked = (base - terrain.env_origins[ids, :2]).norm(dim=1)
    tile = min(terrain.cfg.terrain_generator.size)
    ended = _ended_episodes(env, ids)
    move_up = (walked > promote_fraction * tile) & ~failed & ended
    move_down = (failed | (walked < demote_fraction * tile)) & ~move_up & ended
    terrain.update_env_origins(ids, move_up, move_down)
    return torch.mean(terrain.terrain_levels.float())


def _ended_episodes(env: StripeEnv, ids: torch.Tensor) -> torch.Tensor:
    """Which of the envs ``ids`` are ending an episode that stepped. The env's first reset comes before any step,
    with each robot still where the scene was cloned, often tiles away from its spawn point: read as an episode, it
    promoted every walking Ant one row before it had moved."""
    return env.episode_length_buf[ids] > 0


def _failure_mask(env: StripeEnv, ids: torch.Tensor, failure_terms: Sequence[str], curriculum: str) -> torch.Tensor:
    """Which of the envs ``ids`` ended on one of ``failure_terms``, read from the termination manager's per-term
    dones of the ending step; a name that is not a termination term of the task is a one-line :class:`SpecError`."""
    terminations = env.termination_manager
    failed = torch.zeros(len(ids), dtype=torch.bool, device=env.device)
    for name in failure_terms:
        if name not in terminations.active_terms:
            raise SpecError(f"curriculum {curriculum} failure_terms", name,
                            f"names of the task's termination terms ({', '.join(terminations.active_terms)})")
        failed |= terminations.get_term(name)[ids]
    return failed


def terrain_levels_by_goal(env: StripeEnv, env_ids: Sequence[int], command_name: str = "goal",
                           demote_fraction: float = 0.5,
                           asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Promote envs that reached their goal; demote those that ended with over ``demote_fraction`` of the way left.

    Runs at reset, before the goal command is reset, so it reads the ending episode's goal and outcome
    (:meth:`SceneGoalCommand.succeeded`). Uses Isaac Lab's terrain importer, like :func:`terrain_levels_by_distance`;
    envs that have not stepped keep their level.

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
    ended = _ended_episodes(env, ids)
    terrain.update_env_origins(ids, reached & ended, ~reached & (left > demote_fraction * way) & ended)
    return torch.mean(terrain.terrain_levels.float())


def terrain_levels_by_tracking(env: StripeEnv, env_ids: Sequence[int], command_name: str = "base_velocity",
                               failure_terms: Sequence[str] = ("base_contact", "collision"),
                               promote_fraction: float = 0.5, demote_fraction: float = 0.5,
                               min_promote_distance: float = 1.0,
                               asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Promote robots that tracked their velocity command to the end of the episode; demote those that failed.

    For velocity tracking (Isaac Lab's ``UniformVelocityCommand``), at each reset, per ending episode:

    - the commanded distance is the commanded planar speed times the episode's duration, the covered distance the
      base's distance from its env origin (the tile's spawn point), as in Isaac Lab's ``terrain_levels_vel``;
    - **promote** when the episode ended by a time-out term (``time_out``, and truncations such as ``off_terrain``),
      no failure term fired, and the robot covered more than ``promote_fraction`` of the commanded distance and at
      least ``min_promote_distance`` (so a robot told to stand is not promoted for standing);
    - **demote** when one of ``failure_terms`` fired (Isaac Lab's ``base_contact``, our ``obstacle_collision``...),
      read from the termination manager's per-term dones of the ending step, or when the robot covered less than
      ``demote_fraction`` of the commanded distance.

    Isaac Lab's ``terrain_levels_vel`` promotes on distance alone, so a robot that ran half a tile and then fell or
    hit a tree moves up. Levels are rows of the generated terrain, moved by Isaac Lab's terrain importer
    (``update_env_origins``: the next reset spawns at the new row's spawn point; past the last row, a random one),
    as :func:`terrain_levels_by_distance` does for the Ant's ``ForestCurriculumCfg``. Runs at reset, before the
    command, the episode counter and the termination buffers are reset, so it reads the ending episode; envs that
    have not stepped keep their level.

    Example, the Go2 velocity task (``Go2TerminationsCfg`` names ``base_contact`` and ``collision``)::

        @configclass
        class Go2CurriculumCfg:
            terrain_levels = CurrTerm(
                func=mdp.terrain_levels_by_tracking,
                params={"command_name": "base_velocity", "failure_terms": ("base_contact", "collision")},
            )

    Args:
        env: The environment.
        env_ids: Environments being reset.
        command_name: Velocity command whose first two components are the commanded planar velocity [m/s].
        failure_terms: Termination terms whose firing demotes the robot.
        promote_fraction: Share of the commanded distance to cover for a promotion.
        demote_fraction: Share of the commanded distance under which the robot is demoted.
        min_promote_distance: Least distance covered for a promotion [m].
        asset_cfg: The robot.

    Returns:
        The mean terrain level, logged by the curriculum manager.

    Raises:
        SpecError: If a failure term is not a termination term of the task.
    """
    terrain = env.scene.terrain
    ids = env.env_id_tensor(env_ids)
    failed = _failure_mask(env, ids, failure_terms, "terrain_levels_by_tracking")
    timed_out = env.termination_manager.time_outs[ids]
    duration = env.episode_length_buf[ids].float() * env.step_dt
    commanded = env.command_manager.get_command(command_name)[ids, :2].norm(dim=1) * duration
    covered = (env.scene[asset_cfg.name].data.root_pos_w.torch[ids, :2] - terrain.env_origins[ids, :2]).norm(dim=1)
    ended = _ended_episodes(env, ids)
    move_up = timed_out & ~failed & (covered > promote_fraction * commanded) & (covered >= min_promote_distance) & ended
    move_down = (failed | (covered < demote_fraction * commanded)) & ~move_up & ended
    terrain.update_env_origins(ids, move_up, move_down)
    return torch.mean(terrain.terrain_levels.float())
