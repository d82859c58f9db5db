"""Goal commands that read the generated scene: goals across the tile, clear of obstacles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from isaaclab.envs.mdp.commands import UniformPose2dCommand, UniformPose2dCommandCfg
from isaaclab.utils import configclass

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
