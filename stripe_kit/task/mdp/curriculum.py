"""Curriculum terms: move environments to harder tiles as they succeed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import warp as wp
from isaaclab.managers import SceneEntityCfg

from ...errors import SpecError
from ..kernels import mean_kernel, run_stage, warp_view

if TYPE_CHECKING:
    from ..env import StripeEnv


@wp.func
def _move_terrain_level(e: wp.int32, up: wp.bool, down: wp.bool, seed: wp.int32,
                        terrain_types: wp.array(dtype=wp.int64), terrain_origins: wp.array2d(dtype=wp.vec3f),
                        terrain_levels: wp.array(dtype=wp.int64), env_origins: wp.array(dtype=wp.vec3f)):
    """Isaac Lab's ``TerrainImporter.update_env_origins`` for one env: one row up or down, past the last row to a
    random one, not below the first; the env's origin becomes its new tile's."""
    level = terrain_levels[e]
    if up:
        level = level + wp.int64(1)
    if down:
        level = level - wp.int64(1)
    rows = terrain_origins.shape[0]
    if level >= wp.int64(rows):
        level = wp.int64(wp.randi(wp.rand_init(seed, e), 0, rows))
    if level < wp.int64(0):
        level = wp.int64(0)
    terrain_levels[e] = level
    env_origins[e] = terrain_origins[wp.int32(level), wp.int32(terrain_types[e])]


@wp.kernel
def _terrain_levels_by_distance_kernel(
    mask: wp.array(dtype=wp.bool), root_pose: wp.array(dtype=wp.transformf),
    episode_length: wp.array(dtype=wp.int64), term_dones: wp.array2d(dtype=wp.bool), failure_columns: wp.int32,
    promote_distance: wp.float32, demote_distance: wp.float32, seed: wp.int32, draws: wp.array(dtype=wp.int32),
    terrain_types: wp.array(dtype=wp.int64), terrain_origins: wp.array2d(dtype=wp.vec3f),
    terrain_levels: wp.array(dtype=wp.int64), env_origins: wp.array(dtype=wp.vec3f),
    level_sum_and_count: wp.array(dtype=wp.float32),
):
    """:func:`terrain_levels_by_distance` for one env if ``mask`` holds it (``failure_columns``: a bit per
    termination term that counts as a failure); every env's level then adds to ``level_sum_and_count``."""
    e = wp.tid()
    if mask[e] and episode_length[e] > wp.int64(0):  # an env's first reset comes before it stepped: keep its level
        failed = bool(False)
        for column in range(term_dones.shape[1]):
            if ((failure_columns >> column) & 1) == 1 and term_dones[e, column]:
                failed = True
        base = wp.transform_get_translation(root_pose[e])
        origin = env_origins[e]
        walked = wp.length(wp.vec2f(base[0] - origin[0], base[1] - origin[1]))
        up = walked > promote_distance and not failed
        down = (failed or walked < demote_distance) and not up
        _move_terrain_level(e, up, down, seed + draws[0], terrain_types, terrain_origins, terrain_levels,
                            env_origins)
    wp.atomic_add(level_sum_and_count, 0, wp.float32(terrain_levels[e]))
    wp.atomic_add(level_sum_and_count, 1, 1.0)


@wp.kernel
def _update_env_origins_kernel(
    ids: wp.array(dtype=wp.int64), move_up: wp.array(dtype=wp.bool), move_down: wp.array(dtype=wp.bool),
    seed: wp.int32, draws: wp.array(dtype=wp.int32), terrain_types: wp.array(dtype=wp.int64),
    terrain_origins: wp.array2d(dtype=wp.vec3f), terrain_levels: wp.array(dtype=wp.int64),
    env_origins: wp.array(dtype=wp.vec3f),
):
    """Isaac Lab's ``update_env_origins`` for one of the envs ``ids`` (``move_up``/``move_down`` per id)."""
    i = wp.tid()
    _move_terrain_level(wp.int32(ids[i]), move_up[i], move_down[i], seed + draws[0], terrain_types, terrain_origins,
                        terrain_levels, env_origins)


@wp.kernel
def _next_draw_kernel(draws: wp.array(dtype=wp.int32)):
    """Count one level update (:class:`TerrainLevelBuffers`)."""
    draws[0] = draws[0] + 1


class TerrainLevelBuffers:
    """Device buffers of an env's terrain curriculum: the count of level updates, which seeds the random rows of
    robots promoted past the last row (kept on the device, so a captured update draws anew at each replay, and a
    seeded run repeats on either frontend), and the mean level it logs."""

    def __init__(self, env: StripeEnv):
        self.draws = wp.zeros(1, dtype=wp.int32, device=env.device)
        self.level_sum_and_count = wp.zeros(2, dtype=wp.float32, device=env.device)
        self.mean_level = wp.zeros(1, dtype=wp.float32, device=env.device)
        self.mean_level_view: torch.Tensor = wp.to_torch(self.mean_level)[0]
        """The mean level as a 0-d tensor over the same memory."""
        self.seed = ((env.cfg.seed or 0) * 1_000_003) % 2**31

    @staticmethod
    def of(env: StripeEnv) -> TerrainLevelBuffers:
        """The env's buffers, made at the first call."""
        buffers = getattr(env, "terrain_level_buffers", None)
        if buffers is None:
            buffers = env.terrain_level_buffers = TerrainLevelBuffers(env)
        return buffers

    def next_draw(self) -> None:
        """Count a level update (one launch, after the update that drew)."""
        wp.launch(_next_draw_kernel, dim=1, inputs=[self.draws], device=self.draws.device)


def _terrain_arrays(env: StripeEnv) -> list[wp.array]:
    """The terrain importer's curriculum tensors as Warp arrays (the same memory): types, tile origins, levels and
    env origins."""
    terrain = env.scene.terrain
    return [warp_view(terrain.terrain_types, wp.int64), warp_view(terrain.terrain_origins, wp.vec3f),
            warp_view(terrain.terrain_levels, wp.int64), warp_view(terrain.env_origins, wp.vec3f)]


def update_env_origins(env: StripeEnv, ids: torch.Tensor, move_up: torch.Tensor, move_down: torch.Tensor) -> None:
    """Isaac Lab's ``TerrainImporter.update_env_origins`` in one kernel launch (a dozen torch ops there, at every
    reset, where the host bounds a captured step); the same rules, the random row drawn by Warp."""
    if env.scene.terrain.terrain_origins is None or not len(ids):
        return
    buffers = TerrainLevelBuffers.of(env)
    wp.launch(_update_env_origins_kernel, dim=len(ids),
              inputs=[wp.from_torch(ids, dtype=wp.int64), wp.from_torch(move_up, dtype=wp.bool),
                      wp.from_torch(move_down, dtype=wp.bool), buffers.seed, buffers.draws, *_terrain_arrays(env)],
              device=env.device)
    buffers.next_draw()


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

    A captured stage on the Warp frontend: three launches over the env's reset mask
    (:meth:`~stripe_kit.task.env.StripeEnvMixin.reset_mask`), the mean level computed on the device. With a few
    thousand envs some reset at nearly every step, and the fifty torch ops this took were a third of the host's time
    per captured step. The stage is recorded at the first call, with that call's parameters.

    Returns:
        The mean terrain level, logged by the curriculum manager.

    Raises:
        SpecError: If a failure term is not a termination term of the task.
    """
    terrain = env.scene.terrain
    columns = _failure_columns(env, failure_terms, "terrain_levels_by_distance")
    if terrain.terrain_origins is None:
        return torch.mean(terrain.terrain_levels.float())
    buffers = TerrainLevelBuffers.of(env)
    mask = env.reset_mask(env_ids)
    tile = min(terrain.cfg.terrain_generator.size)
    root_pose = env.scene[asset_cfg.name].data.root_link_pose_w.warp

    def launch() -> None:
        buffers.level_sum_and_count.zero_()
        wp.launch(_terrain_levels_by_distance_kernel, dim=env.num_envs,
                  inputs=[mask, root_pose, warp_view(env.episode_length_buf, wp.int64), _term_dones(env), columns,
                          promote_fraction * tile, demote_fraction * tile, buffers.seed, buffers.draws,
                          *_terrain_arrays(env), buffers.level_sum_and_count], device=env.device)
        wp.launch(mean_kernel, dim=1, inputs=[buffers.level_sum_and_count, buffers.mean_level], device=env.device)
        buffers.next_draw()

    run_stage(env, "Curriculum_terrain_levels_by_distance", launch)
    return buffers.mean_level_view


def _ended_episodes(env: StripeEnv, ids: torch.Tensor) -> torch.Tensor:
    """Which of the envs ``ids`` are ending an episode that stepped. The env's first reset comes before any step,
    with each robot still where the scene was cloned, often tiles away from its spawn point: read as an episode, it
    promoted every walking Ant one row before it had moved."""
    return env.episode_length_buf[ids] > 0


def _failure_columns(env: StripeEnv, failure_terms: Sequence[str], curriculum: str) -> int:
    """A bit per column of the termination manager's per-term dones that counts as a failure; a name that is not
    a termination term of the task is a one-line :class:`SpecError`."""
    terminations = env.termination_manager
    columns = 0
    for name in failure_terms:
        if name not in terminations.active_terms:
            raise SpecError(f"curriculum {curriculum} failure_terms", name,
                            f"names of the task's termination terms ({', '.join(terminations.active_terms)})")
        column = terminations.active_terms.index(name)
        if column > 30:
            raise SpecError(f"curriculum {curriculum} failure_terms", name, "one of the task's first 31 termination terms")
        columns |= 1 << column
    return columns


def _term_dones(env: StripeEnv) -> wp.array:
    """The termination manager's per-term dones of the ending step, (envs, terms), on either frontend."""
    terminations = env.termination_manager
    if hasattr(terminations, "term_dones_wp"):
        return terminations.term_dones_wp
    return warp_view(terminations._term_dones, wp.bool)


def _failure_mask(env: StripeEnv, ids: torch.Tensor, failure_terms: Sequence[str], curriculum: str) -> torch.Tensor:
    """Which of the envs ``ids`` ended on one of ``failure_terms``, read from the termination manager's per-term
    dones of the ending step (names checked as :func:`_failure_columns` does)."""
    _failure_columns(env, failure_terms, curriculum)
    failed = torch.zeros(len(ids), dtype=torch.bool, device=env.device)
    for name in failure_terms:
        failed |= env.termination_manager.get_term(name)[ids]
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
    update_env_origins(env, ids, reached & ended, ~reached & (left > demote_fraction * way) & ended)
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
    update_env_origins(env, ids, move_up, move_down)
    return torch.mean(terrain.terrain_levels.float())
