"""Terrain specs: the ground of a scene as a grid of tiles whose difficulty rises along rows.

A terrain spec produces a :class:`TerrainData`: one global height grid (for placement, masks, previews and MDP
terms) plus the tile origins and difficulties in Isaac Lab's terrain-generator layout (rows along x, columns
along y, centred on the world origin). :class:`SceneTerrainGenerator` hands that data to Isaac Lab's
``TerrainImporter``, so Isaac Lab's terrain-based terms (out-of-bounds, terrain-level curriculum) keep working.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING

import numpy as np
import trimesh
from isaaclab.terrains import SubTerrainBaseCfg, TerrainGenerator, TerrainGeneratorCfg
from isaaclab.terrains.height_field.utils import convert_height_field_to_mesh
from isaaclab.utils import configclass

from ..errors import SpecError, check_number, check_pair, check_range
from .budgets import check_grid, check_lattice, finest_spacing
from .noise import fractal_noise


@dataclasses.dataclass
class TerrainData:
    """Generated ground: a global height grid plus the tile layout.

    Grid index ``(i, j)`` lies at world ``(x0 + i * resolution, y0 + j * resolution)``.
    """

    heights: np.ndarray
    """Ground height [m] on the grid, shape (nx, ny), float32."""
    x0: float
    """World x of grid index 0 [m]."""
    y0: float
    """World y of grid index 0 [m]."""
    resolution: float
    """Grid spacing [m]."""
    tile_size: tuple[float, float]
    """Size of one tile along x and y [m]."""
    tile_origins: np.ndarray
    """Spawn origin of each tile [m], shape (rows, cols, 3): the tile centre on the ground."""
    tile_difficulty: np.ndarray
    """Difficulty of each tile in [0, 1], shape (rows, cols); rises along rows."""
    mesh: trimesh.Trimesh | None = None
    """Collision and visual mesh of the ground, when the spec builds one itself."""

    @property
    def num_rows(self) -> int:
        """Number of difficulty levels (tiles along x)."""
        return self.tile_origins.shape[0]

    @property
    def num_cols(self) -> int:
        """Number of tiles along y."""
        return self.tile_origins.shape[1]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` of the tiled area [m]."""
        sx, sy = self.tile_size
        return (-self.num_rows * sx / 2, self.num_rows * sx / 2, -self.num_cols * sy / 2, self.num_cols * sy / 2)

    def height_at(self, xy: np.ndarray) -> np.ndarray:
        """Bilinearly interpolated ground height [m] at points ``xy`` of shape (N, 2)."""
        u = np.clip((xy[:, 0] - self.x0) / self.resolution, 0, self.heights.shape[0] - 1.000001)
        v = np.clip((xy[:, 1] - self.y0) / self.resolution, 0, self.heights.shape[1] - 1.000001)
        i, j = u.astype(np.int64), v.astype(np.int64)
        fu, fv = u - i, v - j
        h = self.heights
        return ((h[i, j] * (1 - fu) + h[i + 1, j] * fu) * (1 - fv) + (h[i, j + 1] * (1 - fu) + h[i + 1, j + 1] * fu) * fv)

    def slope_at(self, xy: np.ndarray) -> np.ndarray:
        """Ground slope as rise over run (0 is flat, 1 is 45 degrees) at points ``xy`` of shape (N, 2).

        Central differences at the nearest grid point (one-sided at the edges), like ``np.gradient``, but only
        where asked.
        """
        h = self.heights
        i = np.clip(np.rint((xy[:, 0] - self.x0) / self.resolution).astype(np.int64), 0, h.shape[0] - 1)
        j = np.clip(np.rint((xy[:, 1] - self.y0) / self.resolution).astype(np.int64), 0, h.shape[1] - 1)
        i0, i1 = np.maximum(i - 1, 0), np.minimum(i + 1, h.shape[0] - 1)
        j0, j1 = np.maximum(j - 1, 0), np.minimum(j + 1, h.shape[1] - 1)
        gx = (h[i1, j] - h[i0, j]) / ((i1 - i0) * self.resolution)
        gy = (h[i, j1] - h[i, j0]) / ((j1 - j0) * self.resolution)
        return np.hypot(gx, gy)

    def tile_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of the tiles containing points ``xy`` of shape (N, 2)."""
        xmin, _, ymin, _ = self.extent
        row = np.clip(((xy[:, 0] - xmin) // self.tile_size[0]).astype(np.int64), 0, self.num_rows - 1)
        col = np.clip(((xy[:, 1] - ymin) // self.tile_size[1]).astype(np.int64), 0, self.num_cols - 1)
        return row, col


_ROUGHNESS_WAVELENGTH = 0.5
"""Wavelength of the small-scale bumps of :class:`NoiseTerrainSpec` [m] (two octaves)."""


_NOISE_BLOCK_POINTS = 2**18
"""Grid points per block of rows when evaluating noise terrain (a few MB of temporaries)."""


@configclass
class TerrainSpec:
    """Base of all terrain specs: the tile grid shared by every kind of ground."""

    tile_size: tuple[float, float] = (8.0, 8.0)
    """Size of one tile along x and y [m]."""
    num_rows: int = 4
    """Tiles along x; difficulty rises with the row (Isaac Lab's terrain levels)."""
    num_cols: int = 4
    """Tiles along y; each column is a different patch at the same difficulty."""
    horizontal_scale: float = 0.25
    """Height-grid spacing [m]; also the resolution of the physics height field. MuJoCo collides a geom with
    every height-field cell under it and overflows past 50 contacts per pair, so a cell should not be much
    smaller than a robot's feet (0.1 m under an Ant overflows on every step)."""
    vertical_scale: float = 0.005
    """Height quantum of the physics height field [m]."""
    difficulty_range: tuple[float, float] = (0.0, 1.0)
    """Difficulty of the first and the last row."""
    spawn_clearing_radius: float = 1.0
    """Radius of the flat, obstacle-free clearing around each tile's spawn origin [m]."""

    def __post_init__(self):
        check_pair("terrain.tile_size", self.tile_size, 1.0, 1000.0)
        check_number("terrain.num_rows", self.num_rows, 1, 1000, integer=True)
        check_number("terrain.num_cols", self.num_cols, 1, 1000, integer=True)
        check_number("terrain.horizontal_scale", self.horizontal_scale, 0.0, min(self.tile_size) / 4, low_open=True)
        check_grid("terrain.horizontal_scale", self.horizontal_scale, self.area_size(), self.horizontal_scale)
        check_number("terrain.vertical_scale", self.vertical_scale, 0.0, 1.0, low_open=True)
        check_range("terrain.difficulty_range", self.difficulty_range, 0.0, 1.0)
        check_number("terrain.spawn_clearing_radius", self.spawn_clearing_radius, 0.0, min(self.tile_size) / 2)

    def area_size(self) -> tuple[float, float]:
        """Size of the tiled area along x and y [m]."""
        return (self.num_rows * self.tile_size[0], self.num_cols * self.tile_size[1])

    def generate(self, seed: int) -> TerrainData:
        """Generate the ground from ``seed``."""
        raise NotImplementedError

    def generator_fields(self) -> dict:
        """This spec's tile grid as Isaac Lab ``TerrainGeneratorCfg`` fields."""
        return {
            "size": tuple(self.tile_size),
            "num_rows": self.num_rows,
            "num_cols": self.num_cols,
            "horizontal_scale": self.horizontal_scale,
            "vertical_scale": self.vertical_scale,
            "difficulty_range": tuple(self.difficulty_range),
        }

    def row_difficulty(self) -> np.ndarray:
        """Nominal difficulty of each row, rising linearly over :attr:`difficulty_range`."""
        low, high = self.difficulty_range
        return low + (high - low) * (np.arange(self.num_rows) + 0.5) / self.num_rows

    def _grid(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        """World coordinates of the global height grid, and its corner."""
        sx, sy = self.tile_size
        x0, y0 = -self.num_rows * sx / 2, -self.num_cols * sy / 2
        nx = int(round(self.num_rows * sx / self.horizontal_scale)) + 1
        ny = int(round(self.num_cols * sy / self.horizontal_scale)) + 1
        x = x0 + np.arange(nx) * self.horizontal_scale
        y = y0 + np.arange(ny) * self.horizontal_scale
        return x, y, x0, y0

    def _tile_centres(self) -> np.ndarray:
        """Tile centres in the x-y plane [m], shape (rows, cols, 2)."""
        sx, sy = self.tile_size
        cx = -self.num_rows * sx / 2 + (np.arange(self.num_rows) + 0.5) * sx
        cy = -self.num_cols * sy / 2 + (np.arange(self.num_cols) + 0.5) * sy
        return np.stack(np.meshgrid(cx, cy, indexing="ij"), axis=-1)


@configclass
class NoiseTerrainSpec(TerrainSpec):
    """Fractal-noise ground: rolling hills, ridges, slopes or flat, rougher on harder rows.

    Amplitude and roughness grow with the tile difficulty and blend smoothly between tile centres, so the
    ground is continuous while every tile is a different patch of the noise field.
    """

    style: str = "hills"
    """``"hills"`` (smooth noise), ``"ridges"`` (ridged noise), ``"slopes"`` (tilted planes plus noise) or ``"flat"``."""
    amplitude_range: tuple[float, float] = (0.05, 0.5)
    """Peak height of the main relief on the easiest and the hardest row [m]."""
    wavelength: float = 6.0
    """Feature size of the main relief [m]."""
    octaves: int = 4
    """Noise octaves of the main relief."""
    roughness_range: tuple[float, float] = (0.0, 0.04)
    """Amplitude of small-scale bumps (0.5 m wavelength) on the easiest and the hardest row [m]."""
    slope_range: tuple[float, float] = (0.0, 0.3)
    """Grade of the tilted plane (rise over run) on the easiest and the hardest row, for ``style="slopes"``."""

    def __post_init__(self):
        super().__post_init__()
        styles = ("hills", "ridges", "slopes", "flat")
        if self.style not in styles:
            raise SpecError("terrain.style", self.style, f"one of {', '.join(styles)}")
        check_range("terrain.amplitude_range", self.amplitude_range, 0.0, 50.0)
        check_number("terrain.wavelength", self.wavelength, 0.0, 1000.0, low_open=True)
        check_number("terrain.octaves", self.octaves, 1, 8, integer=True)
        check_range("terrain.roughness_range", self.roughness_range, 0.0, 1.0)
        check_range("terrain.slope_range", self.slope_range, 0.0, 1.0)
        if self.style != "flat":
            finest = self.wavelength / 2.0 ** (self.octaves - 1)
            check_lattice("terrain.wavelength", self.wavelength, self.area_size(), finest,
                          f"a wavelength >= {self.wavelength / finest * finest_spacing(self.area_size()):.3g} m "
                          f"with {self.octaves} octaves")
            if max(self.roughness_range) > 0:
                check_lattice("terrain.roughness_range", self.roughness_range, self.area_size(), _ROUGHNESS_WAVELENGTH / 2,
                              f"(0, 0): bumps of {_ROUGHNESS_WAVELENGTH} m are too fine")

    def generate(self, seed: int) -> TerrainData:
        """Generate the height grid, flatten the spawn clearings and record the tile layout."""
        x, y, x0, y0 = self._grid()
        # per-row difficulty, interpolated between row centres along x so that the ground stays continuous
        centres = self._tile_centres()
        difficulty_rows = self.row_difficulty()
        difficulty = np.interp(x, centres[:, 0, 0], difficulty_rows)[:, None]
        # the noise is local, so blocks of rows give the same field as the whole grid; small blocks keep the
        # temporaries in cache (and off fresh pages), which keeps the time linear in the area
        heights = np.zeros((len(x), len(y)))
        block = max(1, _NOISE_BLOCK_POINTS // len(y))
        for start in range(0, len(x), block):
            rows = slice(start, start + block)
            heights[rows] = self._relief(x[rows], y, difficulty[rows], seed, (x.mean(), y.mean()))
        heights = _flatten_clearings(heights, x, y, centres, self.spawn_clearing_radius)
        heights = np.round(heights / self.vertical_scale) * self.vertical_scale
        data = TerrainData(
            heights=heights.astype(np.float32),
            x0=x0,
            y0=y0,
            resolution=self.horizontal_scale,
            tile_size=tuple(self.tile_size),
            tile_origins=np.zeros((self.num_rows, self.num_cols, 3)),
            tile_difficulty=np.repeat(difficulty_rows[:, None], self.num_cols, axis=1),
        )
        data.tile_origins[..., :2] = centres
        data.tile_origins[..., 2] = data.height_at(centres.reshape(-1, 2)).reshape(self.num_rows, self.num_cols)
        return data

    def _relief(self, x: np.ndarray, y: np.ndarray, difficulty: np.ndarray, seed: int,
                centre: tuple[float, float]) -> np.ndarray:
        """Heights on the grid ``x`` by ``y`` whose rows have ``difficulty`` (shape (len(x), 1)), before clearings."""
        gx, gy = np.meshgrid(x, y, indexing="ij")
        amplitude = np.interp(difficulty, (0.0, 1.0), self.amplitude_range)
        roughness = np.interp(difficulty, (0.0, 1.0), self.roughness_range)
        heights = np.zeros_like(gx)
        if self.style in ("hills", "ridges"):
            relief = fractal_noise(gx, gy, seed, self.wavelength, self.octaves)
            if self.style == "ridges":
                relief = 1.0 - 2.0 * np.abs(relief)
            heights += amplitude * relief
        elif self.style == "slopes":
            grade = np.interp(difficulty, (0.0, 1.0), self.slope_range)
            # each tile tilts in its own direction; blend with noise for a natural look
            angle = fractal_noise(gx, gy, seed + 1, 4 * self.wavelength, 1) * np.pi
            heights += grade * (np.cos(angle) * (gx - centre[0]) + np.sin(angle) * (gy - centre[1])) * 0.25
            heights += amplitude * fractal_noise(gx, gy, seed, self.wavelength, self.octaves)
        if self.style != "flat" and max(self.roughness_range) > 0:
            heights += roughness * fractal_noise(gx, gy, seed + 2, _ROUGHNESS_WAVELENGTH, 2)
        return heights


@configclass
class IsaacLabTerrainSpec(TerrainSpec):
    """Ground made by Isaac Lab's own sub-terrains (stairs, rough, pyramids...), used through ``isaaclab.terrains``.

    The sub-terrains are generated by Isaac Lab's ``TerrainGenerator`` in curriculum mode; the height grid used
    for placement is read back by ray casting the generated mesh.
    """

    sub_terrains: dict[str, SubTerrainBaseCfg] = MISSING
    """Isaac Lab sub-terrain configs by name, with their proportions."""

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.sub_terrains, dict) or not self.sub_terrains:
            raise SpecError("terrain.sub_terrains", self.sub_terrains, "a non-empty dict of Isaac Lab sub-terrain configs")

    def generate(self, seed: int) -> TerrainData:
        """Run Isaac Lab's generator, then sample its mesh on the height grid."""
        sub_terrains = {name: sub.replace(convert_to_heightfield=True) for name, sub in self.sub_terrains.items()}
        # Isaac Lab's random height fields draw from numpy's global generator: seed it, then restore it
        global_state = np.random.get_state()
        np.random.seed(seed % 2**32)
        try:
            generator = TerrainGenerator(
                TerrainGeneratorCfg(
                    seed=seed, curriculum=True, sub_terrains=sub_terrains, border_width=0.0, **self.generator_fields()
                )
            )
        finally:
            np.random.set_state(global_state)
        x, y, x0, y0 = self._grid()
        heights = _sample_mesh_heights(generator.terrain_mesh, x, y)
        return TerrainData(
            heights=heights,
            x0=x0,
            y0=y0,
            resolution=self.horizontal_scale,
            tile_size=tuple(self.tile_size),
            tile_origins=np.asarray(generator.terrain_origins, dtype=np.float64),
            tile_difficulty=np.repeat(self.row_difficulty()[:, None], self.num_cols, axis=1),
            mesh=generator.terrain_mesh,
        )


def _flatten_clearings(heights: np.ndarray, x: np.ndarray, y: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    """Level the ground inside each spawn clearing to the height at its centre, easing out over one radius."""
    if radius <= 0:
        return heights
    res = x[1] - x[0]
    out = heights.copy()
    reach = int(np.ceil(2 * radius / res)) + 1
    for cx, cy in centres.reshape(-1, 2):
        ci, cj = int(round((cx - x[0]) / res)), int(round((cy - y[0]) / res))
        i0, i1 = max(ci - reach, 0), min(ci + reach + 1, len(x))
        j0, j1 = max(cj - reach, 0), min(cj + reach + 1, len(y))
        dist = np.hypot(x[i0:i1, None] - cx, y[None, j0:j1] - cy)
        # weight 1 inside the clearing, smoothstep down to 0 at twice its radius
        t = np.clip((dist - radius) / radius, 0.0, 1.0)
        weight = 1.0 - t * t * (3 - 2 * t)
        out[i0:i1, j0:j1] = weight * heights[ci, cj] + (1 - weight) * out[i0:i1, j0:j1]
    return out


def _sample_mesh_heights(mesh: trimesh.Trimesh, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Height of ``mesh`` under each grid point, by downward ray casting with Warp."""
    import torch
    from isaaclab.utils.warp import convert_to_warp_mesh, raycast_mesh

    wp_mesh = convert_to_warp_mesh(np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.int32), "cpu")
    gx, gy = np.meshgrid(x, y, indexing="ij")
    top = float(mesh.bounds[1, 2]) + 1.0
    starts = torch.tensor(np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, top)], axis=-1), dtype=torch.float32)
    dirs = torch.zeros_like(starts)
    dirs[:, 2] = -1.0
    hits = raycast_mesh(starts, dirs, wp_mesh)[0][:, 2].numpy()
    hits[~np.isfinite(hits)] = 0.0
    return hits.reshape(gx.shape).astype(np.float32)


def terrain_mesh(data: TerrainData, vertical_scale: float) -> trimesh.Trimesh:
    """Triangle mesh of the ground, built from the height grid with Isaac Lab's height-field converter."""
    if data.mesh is not None:
        return data.mesh
    quantised = np.round(data.heights / vertical_scale).astype(np.int16)
    vertices, triangles = convert_height_field_to_mesh(quantised, data.resolution, vertical_scale, None)
    vertices[:, 0] += data.x0
    vertices[:, 1] += data.y0
    return trimesh.Trimesh(vertices=vertices, faces=triangles, process=False)


_GENERATED: dict[str, TerrainData] = {}
"""Terrains generated for environments being built, by key; see :class:`SceneTerrainGeneratorCfg`."""


def stage_terrain(key: str, data: TerrainData) -> None:
    """Hand a generated terrain to the next Isaac Lab terrain importer that asks for ``key``."""
    _GENERATED[key] = data


class SceneTerrainGenerator(TerrainGenerator):
    """Isaac Lab terrain generator that serves a terrain already generated by a :class:`TerrainSpec`.

    Isaac Lab's ``TerrainImporter`` instantiates its generator config; this class answers with the staged
    :class:`TerrainData`, so the ground is generated once and the importer still configures env origins,
    terrain levels and the height-field collider exactly as for its own generators.
    """

    def __init__(self, cfg: SceneTerrainGeneratorCfg, device: str = "cpu"):
        if cfg.terrain_key not in _GENERATED:
            raise SpecError("terrain_generator.terrain_key", cfg.terrain_key, f"one of the staged terrains {sorted(_GENERATED)}")
        data = _GENERATED.pop(cfg.terrain_key)
        self.cfg = cfg
        self.device = device
        self.flat_patches = {}
        self.terrain_mesh = terrain_mesh(data, cfg.vertical_scale)
        self.terrain_origins = data.tile_origins.copy()


@configclass
class SceneTerrainGeneratorCfg(TerrainGeneratorCfg):
    """Terrain-generator config naming a staged :class:`TerrainData` instead of sub-terrains to generate."""

    class_type: type = SceneTerrainGenerator
    terrain_key: str = MISSING
    """Key under which the terrain was staged with :func:`stage_terrain`."""
    curriculum: bool = True
    sub_terrains: dict[str, SubTerrainBaseCfg] = {
        "scene": SubTerrainBaseCfg(function="isaaclab.terrains.trimesh.mesh_terrains:flat_terrain", convert_to_heightfield=True)
    }
    """Describes the staged ground to the importer as one height-field sub-terrain; its function is never called."""
