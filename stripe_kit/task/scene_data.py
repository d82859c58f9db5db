"""The generated scene as device tensors, for MDP terms that query it every step."""

from __future__ import annotations

import torch
import warp as wp

from ..scene.spec import GeneratedScene


class SceneTensors:
    """Height grid, tile difficulty and spawn points of a generated scene, on the simulation device."""

    def __init__(self, scene: GeneratedScene, device: str):
        terrain = scene.terrain
        self.heights = torch.as_tensor(terrain.heights, dtype=torch.float32, device=device)
        """Ground height grid [m], shape (nx, ny)."""
        self.origin = torch.tensor([terrain.x0, terrain.y0], device=device)
        self.resolution = terrain.resolution
        nx, ny = self.heights.shape
        # grid_sample reads (width, height) = (x, y) coordinates from a (1, 1, y, x) image, in [-1, 1] over the
        # grid's first to last point (align_corners): a point maps there with one multiply-add
        self._image = self.heights.T.contiguous()[None, None]
        self._grid_scale = torch.tensor([2.0 / ((nx - 1) * self.resolution), 2.0 / ((ny - 1) * self.resolution)],
                                        device=device)
        self._grid_offset = -1.0 - self.origin * self._grid_scale
        self.tile_difficulty = torch.as_tensor(terrain.tile_difficulty, dtype=torch.float32, device=device)
        """Difficulty of each tile, shape (rows, cols)."""
        self.spawn_points = torch.as_tensor(scene.spawn_points, dtype=torch.float32, device=device)
        """Spawn point of each tile [m], shape (rows, cols, 3)."""
        self.bounds = (self.origin, self.origin + torch.tensor([nx - 1, ny - 1], device=device) * self.resolution)
        """Lowest and highest (x, y) corner of the generated ground's height grid [m]."""
        self.heights_wp = wp.from_torch(self.heights)
        """:attr:`heights` as a Warp array (the same memory), for Warp terms."""
        self.grid = (float(terrain.x0), float(terrain.y0), float(terrain.resolution))
        """First grid point (x, y) and spacing of :attr:`heights` [m], on the host: kernel arguments that never
        need a device read."""
        self.corners = ((self.grid[0], self.grid[1]),
                        (self.grid[0] + (nx - 1) * self.grid[2], self.grid[1] + (ny - 1) * self.grid[2]))
        """:attr:`bounds` on the host."""

    def height_at(self, xy: torch.Tensor) -> torch.Tensor:
        """Bilinearly interpolated ground height [m] under points ``xy`` of shape (..., 2).

        Runs every step for every robot, so it is one ``grid_sample`` (two kernels with the coordinate transform,
        where an explicit gather of cell corners took twenty). Points off the terrain read its edge; a non-finite
        point reads an edge too, so the height stays finite and ``physics_diverged`` reports the robot.
        """
        grid = torch.addcmul(self._grid_offset, xy, self._grid_scale)
        height = torch.nn.functional.grid_sample(self._image, grid.reshape(1, 1, -1, 2), mode="bilinear",
                                                 padding_mode="border", align_corners=True)
        return height.reshape(xy.shape[:-1])
