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
        self.tile_difficulty = torch.as_tensor(terrain.tile_difficulty, dtype=torch.float32, device=device)
        """Difficulty of each tile, shape (rows, cols)."""
        self.spawn_points = torch.as_tensor(scene.spawn_points, dtype=torch.float32, device=device)
        """Spawn point of each tile [m], shape (rows, cols, 3)."""

    def height_at(self, xy: torch.Tensor) -> torch.Tensor:
        """Bilinearly interpolated ground height [m] under points ``xy`` of shape (..., 2)."""
        # a NaN position (a diverged robot) maps to cell 0 and yields NaN, which NaN checks downstream report
        uv = torch.nan_to_num((xy - self.origin) / self.resolution, nan=0.0)
        # clamp the cell index, not the coordinate: float32 cannot hold "just below the last index"
        last_cell = torch.tensor(self.heights.shape, device=xy.device) - 2
        ij = torch.minimum(uv.floor().clamp(min=0).long(), last_cell)
        frac = (uv - ij).clamp(0.0, 1.0)
        i, j = ij[..., 0], ij[..., 1]
        fu, fv = frac[..., 0], frac[..., 1]
        h = self.heights
        low = h[i, j] * (1 - fu) + h[i + 1, j] * fu
        high = h[i, j + 1] * (1 - fu) + h[i + 1, j + 1] * fu
        return torch.where(torch.isfinite(xy).all(dim=-1), low * (1 - fv) + high * fv, torch.nan)
