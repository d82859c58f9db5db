"""A camera that follows one env's robot from a fixed direction, computed on the env's device.

The camera keeps a fixed world-space offset from a smoothed point above the robot's root (the view Isaac Lab's
``ViewerCfg`` gives with ``origin_type="asset_root"``), so the picture does not spin with the robot's heading. Its
rotation is therefore constant and only its position changes: one small tensor update per frame, with no host sync.
The target follows the root through a first-order low-pass filter (the Ant's body bobs at the gait frequency) and
jumps when the root teleports (an env reset). The camera is kept above the ground under it.
"""

from __future__ import annotations


import numpy as np
import torch
from scipy.spatial.transform import Rotation
from isaaclab.utils import configclass


@configclass
class FollowCameraCfg:
    """Where the camera sits relative to the robot it follows, and its lens."""

    eye_offset: tuple[float, float, float] = (-2.9, -2.2, 0.8)
    """Camera position relative to the target point [m] (world axes, z up)."""
    target_offset: tuple[float, float, float] = (0.0, 0.0, 0.1)
    """Point looked at, relative to the robot's root [m]."""
    fov_deg: float = 60.0
    """Vertical field of view [deg]."""
    smoothing: float = 0.15
    """Fraction of the way the target moves towards the root each frame (1: rigidly attached)."""
    snap_distance: float = 1.5
    """A root that moved farther than this in one frame [m] was reset: the target jumps to it."""
    ground_clearance: float = 0.4
    """Least height of the camera above the ground under it [m]."""


def look_rotation(offset: tuple[float, float, float]) -> np.ndarray:
    """Quaternion (x, y, z, w) of a camera at ``offset`` from its target looking at it (camera -z forward, +y up)."""
    forward = -np.asarray(offset, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    matrix = np.stack([right, up, -forward], axis=1)  # columns: camera x, y, z in world
    return Rotation.from_matrix(matrix).as_quat()


class FollowCamera:
    """Camera pose (a 7-vector: position, quaternion xyzw) that follows a point, updated on its device."""

    def __init__(self, cfg: FollowCameraCfg, device: str | torch.device):
        self.cfg = cfg
        self.pose = torch.zeros(7, device=device)
        """Camera-to-world transform (position, quaternion xyzw)."""
        self.pose[3:] = torch.as_tensor(look_rotation(cfg.eye_offset), dtype=torch.float32, device=device)
        self._target = torch.zeros(3, device=device)
        self._eye = torch.as_tensor(cfg.eye_offset, dtype=torch.float32, device=device)
        self._aim = torch.as_tensor(cfg.target_offset, dtype=torch.float32, device=device)
        self._started = False

    def follow(self, root: torch.Tensor, ground_height=None) -> torch.Tensor:
        """Move the camera towards ``root`` (3,); ``ground_height`` maps (N, 2) points to heights. Returns the pose."""
        goal = root + self._aim
        if not self._started:
            self._target.copy_(goal)
            self._started = True
        else:
            moved = goal - self._target
            jump = torch.linalg.vector_norm(moved) > self.cfg.snap_distance
            self._target.copy_(torch.where(jump, goal, self._target + self.cfg.smoothing * moved))
        eye = self._target + self._eye
        if ground_height is not None:
            floor = ground_height(eye[None, :2]).reshape(()) + self.cfg.ground_clearance
            eye = torch.cat([eye[:2], torch.maximum(eye[2:], floor.reshape(1))])
        self.pose[:3] = eye
        return self.pose

    def reset(self) -> None:
        """Jump to the next root given instead of gliding to it."""
        self._started = False
