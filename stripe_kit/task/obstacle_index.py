"""A spatial index of a whole generated scene's obstacles: which obstacles lie within reach of each grid cell.

Built once per env on the host (numpy), then held on the simulation device as a compressed list per cell, so
that finding the obstacles around thousands of robots every step is one gather per robot in a kernel, not a
search. Every obstacle whose footprint comes within ``reach`` of *any* point of a cell is listed in that cell, so
the list of the cell holding a point contains every obstacle within ``reach`` of that point. Points off the
indexed area read the nearest edge cell, which is still complete: projecting a point onto the area never brings
it farther from an obstacle inside the area.
"""

from __future__ import annotations

import numpy as np
import torch
import warp as wp

from ..errors import SpecError, check_number

MAX_CELLS = 16_000_000
"""Largest number of cells an index may have (64 MB of cell offsets)."""
MAX_ENTRIES = 64_000_000
"""Largest number of (cell, obstacle) entries an index may hold (256 MB)."""


class ObstacleIndex:
    """Cells of a regular grid over the scene, each listing the obstacles within ``reach`` of it (CSR layout).

    Attributes on the device: ``cell_start`` (int32, ``num_cells + 1``) and ``cell_items`` (int32 obstacle ids),
    both Warp arrays, with zero-copy torch views ``cell_start_t`` and ``cell_items_t``.
    """

    def __init__(self, xy: np.ndarray, footprint: np.ndarray, reach: float, bounds: tuple[float, float, float, float],
                 device: str, cell: float | None = None, field: str = "sim.obstacle_reach"):
        """Build the index.

        Args:
            xy: Obstacle centres on the ground [m], shape (M, 2).
            footprint: Radius of the ground circle each obstacle covers [m], shape (M,).
            reach: Distance from a point within which obstacles must be listed [m].
            bounds: ``(xmin, xmax, ymin, ymax)`` of the area to index [m]; widened to hold every obstacle.
            device: Device of the arrays (``cpu``, ``cuda:0``).
            cell: Cell size [m]; half the reach (at most 4 m, at least 0.25 m) when None.
            field: Name of the setting ``reach`` came from, for error messages.
        """
        check_number(field, reach, 0.0, 1000.0, low_open=True)
        self.reach = float(reach)
        self.cell = float(cell if cell is not None else min(max(reach / 2, 0.25), 4.0))
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        footprint = np.asarray(footprint, dtype=np.float64).reshape(-1)
        xmin, xmax, ymin, ymax = bounds
        if len(xy):
            xmin, ymin = min(xmin, xy[:, 0].min()), min(ymin, xy[:, 1].min())
            xmax, ymax = max(xmax, xy[:, 0].max()), max(ymax, xy[:, 1].max())
        self.origin = (float(xmin), float(ymin))
        self.nx = max(1, int(np.ceil((xmax - xmin) / self.cell)))
        self.ny = max(1, int(np.ceil((ymax - ymin) / self.cell)))
        if self.nx * self.ny > MAX_CELLS:
            raise SpecError(field, reach, f"a reach giving at most {MAX_CELLS:,} index cells over this scene "
                            f"({self.nx * self.ny:,} with {self.cell:.3g} m cells)")
        cells, items = self._pairs(xy, footprint, field)
        order = np.argsort(cells, kind="stable")
        cells, items = cells[order], items[order]
        counts = np.bincount(cells, minlength=self.nx * self.ny)
        start = np.zeros(self.nx * self.ny + 1, dtype=np.int32)
        np.cumsum(counts, out=start[1:])
        self.counts = counts
        """Obstacles listed per cell, shape (nx * ny,), on the host."""
        self.items_host = items.astype(np.int32)
        self.start_host = start
        self.max_count = int(counts.max(initial=0))
        """Most obstacles listed in one cell: the most any point's reach can need."""
        self.device = device
        self.cell_start = wp.array(start, dtype=wp.int32, device=device)
        self.cell_items = wp.array(self.items_host if len(items) else np.zeros(1, np.int32), dtype=wp.int32,
                                   device=device)
        self.cell_start_t = wp.to_torch(self.cell_start)
        self.cell_items_t = wp.to_torch(self.cell_items)

    @property
    def nbytes(self) -> int:
        """Device memory the index holds [bytes]."""
        return 4 * (len(self.start_host) + max(len(self.items_host), 1))

    def max_count_of(self, selected: np.ndarray) -> int:
        """Most obstacles of a subset (a boolean mask over obstacle ids) listed in one cell."""
        if not len(self.items_host):
            return 0
        cells = np.repeat(np.arange(self.nx * self.ny), self.counts)
        return int(np.bincount(cells[selected[self.items_host]], minlength=1).max(initial=0))

    def cell_of(self, xy: torch.Tensor) -> torch.Tensor:
        """Flat cell index of points ``xy`` of shape (..., 2), clamped to the indexed area (torch)."""
        i = ((xy[..., 0] - self.origin[0]) / self.cell).floor().nan_to_num(0.0).clamp(0, self.nx - 1).long()
        j = ((xy[..., 1] - self.origin[1]) / self.cell).floor().nan_to_num(0.0).clamp(0, self.ny - 1).long()
        return i * self.ny + j

    def around(self, xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Obstacle ids listed around points ``xy`` (..., 2): ids (..., max_count) and a validity mask (torch)."""
        cell = self.cell_of(xy)
        start = self.cell_start_t[cell].long()
        count = self.cell_start_t[cell + 1].long() - start
        offset = torch.arange(max(self.max_count, 1), device=xy.device)
        valid = offset < count[..., None]
        ids = self.cell_items_t[(start[..., None] + offset).clamp(max=self.cell_items_t.numel() - 1)].long()
        return torch.where(valid, ids, 0), valid

    def _pairs(self, xy: np.ndarray, footprint: np.ndarray, field: str) -> tuple[np.ndarray, np.ndarray]:
        """Every (cell, obstacle) pair with the obstacle's footprint within reach of the cell, in chunks."""
        cells, items = [], []
        total = 0
        radius = self.reach + footprint
        x0, y0 = self.origin
        for first in range(0, len(xy), 8192):
            chunk = slice(first, first + 8192)
            p, r = xy[chunk], radius[chunk]
            lo_i = np.clip(np.floor((p[:, 0] - r - x0) / self.cell), 0, self.nx - 1).astype(np.int64)
            hi_i = np.clip(np.floor((p[:, 0] + r - x0) / self.cell), 0, self.nx - 1).astype(np.int64)
            lo_j = np.clip(np.floor((p[:, 1] - r - y0) / self.cell), 0, self.ny - 1).astype(np.int64)
            hi_j = np.clip(np.floor((p[:, 1] + r - y0) / self.cell), 0, self.ny - 1).astype(np.int64)
            span_i, span_j = hi_i - lo_i + 1, hi_j - lo_j + 1
            per = span_i * span_j
            owner = np.repeat(np.arange(len(p)), per)
            local = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
            ci = lo_i[owner] + local // span_j[owner]
            cj = lo_j[owner] + local % span_j[owner]
            # distance from the obstacle centre to the cell's rectangle
            dx = np.maximum(np.maximum(x0 + ci * self.cell - p[owner, 0], p[owner, 0] - x0 - (ci + 1) * self.cell), 0)
            dy = np.maximum(np.maximum(y0 + cj * self.cell - p[owner, 1], p[owner, 1] - y0 - (cj + 1) * self.cell), 0)
            near = dx * dx + dy * dy <= r[owner] ** 2
            cells.append((ci * self.ny + cj)[near])
            items.append((owner + first)[near])
            total += int(near.sum())
            if total > MAX_ENTRIES:
                raise SpecError(field, self.reach, f"a reach listing at most {MAX_ENTRIES:,} (cell, obstacle) pairs "
                                f"over this scene of {len(xy):,} obstacles")
        if not cells:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(cells), np.concatenate(items)
