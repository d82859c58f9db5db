"""The generated scene as device tensors, for MDP terms that query it every step."""

from __future__ import annotations

import torch

from ..scene.spec import GeneratedScene


class SceneTensors:
    """Height grid, tile difficulty and spawn points of a generated scene, on the simulation device."""

    def __init__(self, scene: GeneratedScene, device: str):
        terrain = scene.terrain
        self.heights = torch.as_tensor(terrain.heights, device=device)
        """Ground height grid [m], shape (nx, ny)."""
        self.origin = torch.tensor([terrain.x0, terrain.y0], device=device)
        self.resolution = terrain.resolution
        nx, ny = self.heights.shape
        self._flat_heights = self.heights.reshape(-1)
        self._last_cell = torch.tensor([nx - 2, ny - 2], device=device)
        self._corners = torch.tensor([0, ny, 1, ny + 1], device=device)
        """Flat-index offsets of a cell's corners (i, j), (i + 1, j), (i, j + 1), (i + 1, j + 1)."""
        self._row_stride = torch.tensor([ny, 1], device=device)
        self.tile_difficulty = torch.as_tensor(terrain.tile_difficulty, dtype=torch.float32, device=device)
        """Difficulty of each tile, shape (rows, cols)."""
        self.spawn_points = torch.as_tensor(scene.spawn_points, dtype=torch.float32, device=device)
        """Spawn point of each tile [m], shape (rows, cols, 3)."""

    def height_at(self, xy: torch.Tensor) -> torch.Tensor:
        """Bilinearly interpolated ground height [m] under points ``xy`` of shape (..., 2).

        Runs every step for every robot, so it is written as few tensor ops: one gather of the four cell corners.
        """
        # a NaN position (a diverged robot) maps to cell 0 and yields NaN, which NaN checks downstream report
        uv = torch.nan_to_num((xy - self.origin) / self.resolution, nan=0.0)
        # clamp the cell index, not the coordinate: float32 cannot hold "just below the last index"
        ij = torch.minimum(uv.floor().clamp(min=0).long(), self._last_cell)
        frac = (uv - ij).clamp(0.0, 1.0)
        corners = self._flat_heights[(ij * self._row_stride).sum(dim=-1, keepdim=True) + self._corners]
        along_y = torch.lerp(corners[..., 0:2], corners[..., 2:4], frac[..., 1:2])
        height = torch.lerp(along_y[..., 0], along_y[..., 1], frac[..., 0])
        return torch.where(torch.isfinite(xy).all(dim=-1), height, torch.nan)
