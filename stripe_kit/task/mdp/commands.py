"""Commands that read the generated scene: goals across the tile clear of obstacles, walks that turn before the edge,
velocity commands redrawn when an obstacle or the map's edge blocks them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import warp as wp
from isaaclab.envs.mdp.commands import (
    UniformPose2dCommand,
    UniformPose2dCommandCfg,
    UniformVelocityCommand,
    UniformVelocityCommandCfg,
)
from isaaclab.managers import CommandTerm, CommandTermCfg
from isaaclab.utils import configclass

from ..kernels import mean_kernel, reset_walk_direction_kernel, run_stage, walk_direction_kernel, warp_view

if TYPE_CHECKING:
    from ..env import StripeEnv


class SceneGoalCommand(UniformPose2dCommand):
    """A 2D goal at a set distance from the spawn point, in the direction with the most room around it.

    Several directions within ``bearing_range`` of the robot's heading at reset are drawn; the one whose goal lies
    farthest from the environment's obstacles wins, so a goal is never inside a trunk but the robot usually has to
    go around trees to reach it. The height of the goal follows the generated ground.
    """

    cfg: SceneGoalCommandCfg
    _env: StripeEnv

    def compute(self, dt: float):
        """Isaac Lab's compute without its timer: goals change at reset only, and the timer's ``nonzero`` would
        make the host wait for the device on every step."""
        self._update_metrics()
        self._update_command()

    def mark_reached(self, reached: torch.Tensor) -> None:
        """Record goals reached this step, before the envs that reached them are reset.

        Isaac Lab updates the command's metrics after the step's resets, so on a task that terminates on success
        the arriving step would be lost and ``Metrics/success_rate`` would stay at zero; the termination term that
        ends the episode calls this instead.
        """
        self._succeeded |= reached

    def succeeded(self, env_ids: torch.Tensor) -> torch.Tensor:
        """Whether each environment's current episode has reached its goal (valid until its command is reset)."""
        return self._succeeded[env_ids]

    def _resample_command(self, env_ids: Sequence[int]):
        ids = self._env.env_id_tensor(env_ids)
        count = len(ids)
        origin = self._env.scene.env_origins[ids]
        bearing = torch.empty(count, self.cfg.candidates, device=self.device).uniform_(*self.cfg.bearing_range)
        angle = self.robot.data.heading_w.torch[ids, None] + bearing
        distance = torch.empty(count, self.cfg.candidates, device=self.device).uniform_(*self.cfg.distance_range)
        goals = origin[:, None, :2] + distance[..., None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)
        # obstacles around each candidate goal, from the scene's index (the slots follow the robot, not the goal)
        obstacles, radii = self._env.obstacles.around(goals)
        room = ((goals[:, :, None, :] - obstacles).norm(dim=-1) - radii).amin(dim=-1).clamp(max=self._env.obstacles.reach)
        best = room.argmax(dim=1)
        goal = goals[torch.arange(count, device=self.device), best]
        self.pos_command_w[ids, :2] = goal
        self.pos_command_w[ids, 2] = self._env.scene_data.height_at(goal) + self.robot.data.default_root_pose.torch[ids, 2]
        heading = torch.atan2(goal[:, 1] - origin[:, 1], goal[:, 0] - origin[:, 0])
        self.heading_command_w[ids] = heading


@configclass
class SceneGoalCommandCfg(UniformPose2dCommandCfg):
    """Config of :class:`SceneGoalCommand`; goals are resampled at reset only."""

    class_type: type = SceneGoalCommand
    asset_name: str = "robot"
    simple_heading: bool = True
    resampling_time_range: tuple[float, float] = (1e9, 1e9)
    ranges: UniformPose2dCommandCfg.Ranges = UniformPose2dCommandCfg.Ranges(pos_x=(0.0, 0.0), pos_y=(0.0, 0.0), heading=(0.0, 0.0))
    distance_range: tuple[float, float] = (2.5, 3.5)
    """Distance of the goal from the spawn point [m]."""
    bearing_range: tuple[float, float] = (-math.pi, math.pi)
    """Directions the goal may lie in, relative to the robot's heading at reset [rad]: narrow it for an easier task."""
    candidates: int = 8
    """Directions drawn per reset; the one with the most room is kept."""
    position_success_threshold: float | None = 0.5
    """Distance [m] under which the goal counts as reached (logged as ``Metrics/success_rate``)."""


class WalkDirectionCommand(CommandTerm):
    """A walk direction along x that turns back before the map's edge and bends away from its sides: robots walk
    the length of the forest and back, and stay on it.

    At reset the walk heads toward the side of the map with more room from the env's origin; on the step the robot
    comes within ``turn_distance`` of the edge ahead, it turns around. While the robot is within ``side_distance``
    of a side edge (along y), the direction bends 45 degrees away from it. A fixed direction (+x, or toward the far
    side) rewarded a good walker for walking off the map: on an H200, 93 % (+x) and 30 % (far side) of the walk's
    episodes ended off the 48 m map. Turning at the ends only, a walk that drifted sideways (the progress reward
    counts only the velocity along the direction) still left the map at its side: 6 % of training episodes at 600
    epochs, and every exit of the trained policy played deterministically. The command is the unit direction in the
    world frame, shape (num_envs, 2).
    """

    cfg: WalkDirectionCommandCfg
    _env: StripeEnv

    def __init__(self, cfg: WalkDirectionCommandCfg, env: StripeEnv):
        super().__init__(cfg, env)
        self.robot = env.scene[cfg.asset_name]
        self.direction_w = torch.zeros(self.num_envs, 2, device=self.device)
        self.direction_w[:, 0] = 1.0
        self.metrics["turns"] = torch.zeros(self.num_envs, device=self.device)
        self._kernel_arrays = [wp.from_torch(self.metrics["turns"]), wp.from_torch(self.direction_w, dtype=wp.vec2f)]
        self._ending_turns = wp.zeros(2, dtype=wp.float32, device=self.device)
        self._mean_ending_turns = wp.zeros(1, dtype=wp.float32, device=self.device)
        self._mean_ending_turns_view = wp.to_torch(self._mean_ending_turns)[0]
        self._corners = tuple(wp.vec2f(*corner) for corner in env.scene_data.corners)
        low, high = env.scene_data.bounds
        self._bounds_sum_x = float(low[0] + high[0])

    @property
    def command(self) -> torch.Tensor:
        """Unit walk direction in the world frame, shape (num_envs, 2)."""
        return self.direction_w

    def compute(self, dt: float):
        """Isaac Lab's compute without its timer: the walk turns at the edge only, and the timer's ``nonzero``
        would make the host wait for the device on every step."""
        self._update_command()

    def reset(self, env_ids: Sequence[int] | None = None) -> dict[str, torch.Tensor]:
        """Log the ending episodes' mean turns and draw the new walks, for the envs being reset
        (:meth:`~stripe_kit.task.env.StripeEnvMixin.reset_mask`): Isaac Lab's reset without its resampling timer and
        counter, which this command does not use, in two kernel launches over the reset mask (thirty torch ops
        otherwise), replayed from a CUDA graph on the Warp frontend."""
        self._resample_command(env_ids)
        return {"turns": self._mean_ending_turns_view.clone()}

    def _update_metrics(self):
        pass  # turns are counted in _update_command, where they happen

    def _resample_command(self, env_ids: Sequence[int]):
        mask = self._env.reset_mask(env_ids)
        run_stage(self._env, "WalkCommand_reset", lambda: self._launch_reset(mask))

    def _launch_reset(self, mask: wp.array) -> None:
        self._ending_turns.zero_()
        wp.launch(reset_walk_direction_kernel, dim=self.num_envs,
                  inputs=[mask, warp_view(self._env.scene.env_origins, wp.vec3f), self._bounds_sum_x,
                          *self._kernel_arrays, self._ending_turns], device=self.device)
        wp.launch(mean_kernel, dim=1, inputs=[self._ending_turns, self._mean_ending_turns], device=self.device)

    def _update_command(self):
        """One kernel launch for every env (a dozen torch ops each step otherwise; on a GPU ops bound a step),
        replayed from a CUDA graph on the Warp frontend."""
        run_stage(self._env, "WalkCommand_update", self._launch_update)

    def _launch_update(self) -> None:
        wp.launch(
            walk_direction_kernel,
            dim=self.num_envs,
            inputs=[self.robot.data.root_link_pose_w.warp, *self._corners, self.cfg.turn_distance,
                    self.cfg.side_distance, *self._kernel_arrays],
            device=self.device,
        )


@configclass
class WalkDirectionCommandCfg(CommandTermCfg):
    """Config of :class:`WalkDirectionCommand`; the direction changes at the map's edge, not on a timer."""

    class_type: type = WalkDirectionCommand
    asset_name: str = "robot"
    resampling_time_range: tuple[float, float] = (1e9, 1e9)
    turn_distance: float = 6.0
    """Room left ahead of the robot [m] at which the walk turns around: a few seconds of walking, and more than
    the off-map termination's buffer, so a robot that turns in time never leaves the map."""
    side_distance: float = 6.0
    """Room to a side edge (along y) [m] within which the walk bends 45 degrees away from that edge; 0 never
    bends."""


class SceneVelocityCommand(UniformVelocityCommand):
    """Isaac Lab's uniform velocity command, redrawn on the step an obstacle or the map's edge blocks it.

    Among trees a fixed velocity command often leads straight into a trunk: a policy then either tracks it and
    collides or leaves it and is scored as tracking badly, and the tracking error stops measuring the gait. Here a
    command whose direction of travel (the commanded planar velocity turned into the world by the base's heading)
    has an obstacle in its corridor within ``block_distance`` of the robot's clearance, or the map's edge within
    ``edge_margin``, is redrawn from the same ranges (for every env at once, on the device, no host sync), as a
    person steering a robot would pick another way. ``Metrics/<name>/redrawn`` counts redraws per episode.
    """

    cfg: SceneVelocityCommandCfg
    _env: StripeEnv

    def __init__(self, cfg: SceneVelocityCommandCfg, env: StripeEnv):
        super().__init__(cfg, env)
        self.metrics["redrawn"] = torch.zeros(self.num_envs, device=self.device)

    def blocked(self) -> torch.Tensor:
        """Whether each env's commanded direction of travel is blocked by an obstacle or the map's edge, (num_envs,)."""
        yaw = self.robot.data.heading_w.torch
        cos, sin = torch.cos(yaw), torch.sin(yaw)
        vx, vy = self.vel_command_b[:, 0], self.vel_command_b[:, 1]
        travel = torch.stack([cos * vx - sin * vy, sin * vx + cos * vy], dim=1)
        speed = travel.norm(dim=1)
        unit = travel / speed.clamp(min=1e-6)[:, None]
        position = self.robot.data.root_pos_w.torch[:, :2]
        offset = self._env.obstacles.positions[..., :2] - position[:, None]
        along = (offset * unit[:, None]).sum(dim=-1)
        across = (offset[..., 0] * unit[:, None, 1] - offset[..., 1] * unit[:, None, 0]).abs()
        clearance = self._env.obstacles.radii + self.cfg.body_radius
        in_corridor = (along > 0) & (along < clearance + self.cfg.block_distance) & (across < clearance)
        low, high = self._env.scene_data.bounds
        ahead = position + unit * self.cfg.edge_margin
        past_edge = ((ahead < low) | (ahead > high)).any(dim=1)
        return (in_corridor.any(dim=1) | past_edge) & (speed > self.cfg.min_speed)

    def compute(self, dt: float):
        """Isaac Lab's compute with its resampling under a mask: commands whose time is up or that are blocked are
        redrawn for every env at once, without the ``nonzero`` that makes the host wait for the device each step."""
        self._update_metrics()
        self.time_left -= dt
        due = self.time_left <= 0.0
        blocked = self.blocked()
        r = torch.empty(self.num_envs, device=self.device)
        self.time_left.copy_(torch.where(due, r.uniform_(*self.cfg.resampling_time_range), self.time_left))
        self.command_counter += due.long()
        self._redraw(due | blocked, due)
        self.metrics["redrawn"] += blocked.float()
        self._update_command()

    def _redraw(self, commands: torch.Tensor, kinds: torch.Tensor) -> None:
        """Draw new velocities and headings where ``commands`` holds, and new standing/heading kinds where ``kinds``
        holds (a blocked command keeps its kind), as :meth:`_resample_command` does for a list of envs."""
        r = torch.empty(self.num_envs, device=self.device)
        ranges = self.cfg.ranges
        for axis, limits in enumerate((ranges.lin_vel_x, ranges.lin_vel_y, ranges.ang_vel_z)):
            self.vel_command_b[:, axis] = torch.where(commands, r.uniform_(*limits), self.vel_command_b[:, axis])
        if self.cfg.heading_command:
            self.heading_target.copy_(torch.where(commands, r.uniform_(*ranges.heading), self.heading_target))
            self.is_heading_env.copy_(torch.where(kinds, r.uniform_(0.0, 1.0) <= self.cfg.rel_heading_envs,
                                                  self.is_heading_env))
        self.is_standing_env.copy_(torch.where(kinds, r.uniform_(0.0, 1.0) <= self.cfg.rel_standing_envs,
                                               self.is_standing_env))


@configclass
class SceneVelocityCommandCfg(UniformVelocityCommandCfg):
    """Config of :class:`SceneVelocityCommand`."""

    class_type: type = SceneVelocityCommand
    body_radius: float = 0.3
    """Half the robot's width [m]: the corridor of travel is this plus each obstacle's radius wide on each side."""
    block_distance: float = 1.0
    """How far ahead of touching an obstacle [m] a command counts as blocked."""
    edge_margin: float = 3.0
    """How far ahead [m] the map's edge blocks a command: more than the off-map termination's buffer."""
    min_speed: float = 0.1
    """Commands slower than this [m/s] (standing, turning on the spot) are never blocked."""
