"""Observation terms that read the generated scene."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import torch
from isaaclab.envs.mdp import observations as isaaclab_observations
from isaaclab.managers import SceneEntityCfg

if TYPE_CHECKING:
    from ..env import StripeEnv


def nearest_obstacles(env: StripeEnv, count: int = 4, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """The ``count`` nearest obstacles in the robot's heading frame: (forward, left, clearance) each [m].

    Clearance is the distance from the base to the obstacle's surface. Computed from the slot obstacles of each
    environment (those within the obstacle reach of the robot) with a top-k over a few dozen candidates; fewer
    obstacles than ``count`` read as far away (10 m). A privileged observation: a policy sees obstacles through a
    :class:`~stripe_kit.task.sensors.SceneRayCaster`.
    """
    robot = env.scene[asset_cfg.name]
    base = robot.data.root_pos_w.torch
    offsets = env.obstacles.positions[..., :2] - base[:, None, :2]
    clearance = offsets.norm(dim=-1) - env.obstacles.radii
    nearest = torch.topk(clearance, min(count, clearance.shape[1]), dim=1, largest=False).indices
    offsets = torch.gather(offsets, 1, nearest[..., None].expand(-1, -1, 2))
    heading = base_heading(env, asset_cfg)
    cos, sin = heading[:, None, 0], heading[:, None, 1]
    forward = cos * offsets[..., 0] + sin * offsets[..., 1]
    left = -sin * offsets[..., 0] + cos * offsets[..., 1]
    features = torch.stack([forward, left, torch.gather(clearance, 1, nearest)], dim=-1)
    # far obstacles (parked slots included) carry no information: saturate them, and pad to `count` the same way
    features = torch.nn.functional.pad(features, (0, 0, 0, count - features.shape[1]), value=10.0)
    return features.clamp(-10.0, 10.0).reshape(env.num_envs, -1)


def ray_distances(env: StripeEnv, sensor_cfg: SceneEntityCfg) -> torch.Tensor:
    """Distance along each ray of a :class:`~stripe_kit.task.sensors.SceneRayCaster` to what it hit [m].

    Shape (num_envs, rays); a ray that hits nothing reads the sensor's ``max_distance``. Scale it with the term's
    ``scale`` (``1 / max_distance`` gives 0 to 1) and add noise with its ``noise``, as any observation term.
    """
    return env.scene.sensors[sensor_cfg.name].data.distances.torch


def height_scan(env: StripeEnv, sensor_cfg: SceneEntityCfg, offset: float = 0.5) -> torch.Tensor:
    """Height of the sensor above each ray's hit, less ``offset`` [m], shape (num_envs, rays).

    Isaac Lab's ``height_scan``, named here so that Isaac Lab's Warp frontend finds its twin for a
    :class:`~stripe_kit.task.sensors.SceneRayCaster` in :mod:`stripe_kit.warp.task.mdp`.
    """
    return isaaclab_observations.height_scan(env, sensor_cfg, offset)


def base_height_above_ground(env: StripeEnv, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Height of the robot base above the generated ground under it [m], shape (num_envs, 1)."""
    base = env.scene[asset_cfg.name].data.root_pos_w.torch
    return (base[:, 2] - env.scene_data.height_at(base[:, :2]))[:, None]


def heading_to_target(env: StripeEnv, target_pos: tuple[float, float, float],
                      asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Cosine and sine of the angle from the base's heading to a target given relative to the env origin.

    Two smooth values instead of a wrapped angle, and a fraction of the ops of Isaac Lab's Euler-angle terms.
    """
    robot = env.scene[asset_cfg.name]
    target = env.scene.env_origins[:, :2] + device_constant(tuple(target_pos[:2]), str(env.device))
    to_target = target - robot.data.root_pos_w.torch[:, :2]
    direction = to_target / to_target.norm(dim=1, keepdim=True).clamp(min=1e-6)
    heading = base_heading(env, asset_cfg)
    cos = (heading * direction).sum(dim=1)
    sin = heading[:, 0] * direction[:, 1] - heading[:, 1] * direction[:, 0]
    return torch.stack([cos, sin], dim=1)


def walk_direction(env: StripeEnv, command_name: str = "walk") -> torch.Tensor:
    """Unit walk direction of each env in the world frame, shape (num_envs, 2).

    The command ``command_name`` (a :class:`~.commands.WalkDirectionCommand`, which turns before the map's edge)
    when the task has one; otherwise toward the side of the map with more room from the env's origin.
    """
    if env.command_manager is not None and command_name in env.command_manager.active_terms:
        return env.command_manager.get_command(command_name)
    low, high = env.scene_data.bounds
    sign = torch.where(env.scene.env_origins[:, 0] * 2 < low[0] + high[0], 1.0, -1.0)
    return torch.stack([sign, torch.zeros_like(sign)], dim=1)


def walk_heading(env: StripeEnv, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Cosine and sine of the angle from the base's heading to :func:`walk_direction`, shape (num_envs, 2)."""
    angle = walk_heading_angle(env, asset_cfg)
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def walk_heading_angle(env: StripeEnv, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Angle from :func:`walk_direction` to the base's heading [rad], shape (num_envs,).

    From the yaw itself: five torch ops where the dot and cross products of unit vectors take thirteen (on a GPU
    the host's dispatch of each op bounds a step's time)."""
    direction = walk_direction(env)
    return env.scene[asset_cfg.name].data.heading_w.torch - torch.atan2(direction[:, 1], direction[:, 0])


def base_heading(env: StripeEnv, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Unit vector of the base's heading on the ground, shape (num_envs, 2).

    From Isaac Lab's ``heading_w``, which one kernel computes once per physics step for every term that asks.
    """
    yaw = env.scene[asset_cfg.name].data.heading_w.torch
    return torch.stack([torch.cos(yaw), torch.sin(yaw)], dim=1)


@functools.cache
def device_constant(values: tuple[float, ...], device: str) -> torch.Tensor:
    """A constant tensor made once per device, not copied to the device on every step."""
    return torch.tensor(values, device=device)
