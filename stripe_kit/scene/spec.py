"""Scene specs: procedural generators of plausible environments, and the scenes they generate.

A :class:`SceneSpec` is a factory: :meth:`SceneSpec.generate` makes the terrain, lets each :class:`AssetSpec` of
its palette place its instances in order (later types see earlier ones), and returns a :class:`GeneratedScene`.
Generation is seeded and deterministic. Subclass :class:`GeneratedScene` (and set :attr:`SceneSpec.scene_class`)
to carry extra data (moisture, traversability...) to later asset specs and to MDP terms.
"""

from __future__ import annotations

import hashlib
import math
import warnings
import zlib

import numpy as np
from isaaclab.utils import configclass

from ..errors import SpecError, check_number
from .assets import AssetSpec, Colliders, Instances, PlacementContext, peak_density
from .budgets import check_darts, check_lattice, check_pairs, finest_spacing
from .terrain import NoiseTerrainSpec, TerrainData, TerrainSpec


class PlacementWarning(UserWarning):
    """An asset type placed no instance in a generated scene."""


_WARNED: set[tuple[str, str, str]] = set()
"""Asset types (class, name, reason) already warned about in this process."""


def placement_problem(asset: AssetSpec, terrain: TerrainSpec) -> str | None:
    """Why ``asset`` can never place an instance on ``terrain``, or None where it can (or the spec cannot tell)."""
    if peak_density(asset) == 0:
        return "its density_range is 0 everywhere"
    if asset.avoid_spawn:
        reach = terrain.spawn_clearing_radius + asset.max_footprint()
        half_diagonal = math.hypot(*terrain.tile_size) / 2
        if reach >= half_diagonal:
            sx, sy = terrain.tile_size
            return (f"its colliders reach {asset.max_footprint():.3g} m from its origin, so with the "
                    f"{terrain.spawn_clearing_radius:g} m spawn clearing no point of a {sx:g} x {sy:g} m tile is "
                    f"clear of the spawn points (make its colliders smaller, the tiles larger, or set avoid_spawn=False)")
    return None


def warn_placed_none(asset: AssetSpec, terrain: TerrainSpec) -> None:
    """Warn, once per asset type and reason in a process, that ``asset`` placed no instance."""
    reason = placement_problem(asset, terrain)
    key = (type(asset).__qualname__, asset.name, reason or "")
    if key in _WARNED:
        return
    _WARNED.add(key)
    if reason is not None:
        message = f"assets.{asset.name} ({type(asset).__name__}) can never place an instance: {reason}"
    else:
        message = (f"assets.{asset.name} ({type(asset).__name__}) placed no instance in this scene (check its "
                   f"density_range, max_slope, height_range and clearance against the terrain)")
    warnings.warn(message, PlacementWarning, stacklevel=3)


class GeneratedScene:
    """One generated scene: terrain, placed instances by asset type, and their primitive colliders."""

    def __init__(self, spec: SceneSpec, seed: int, terrain: TerrainData):
        self.spec = spec
        self.seed = seed
        self.terrain = terrain
        self.instances: dict[str, Instances] = {}
        self.colliders = Colliders.concatenate([])
        self.collider_asset = np.zeros(0, dtype=np.int64)
        """Index into :attr:`asset_names` of the asset type each collider belongs to."""

    @property
    def asset_names(self) -> list[str]:
        """Names of the asset types, in palette order."""
        return list(self.instances)

    @property
    def spawn_points(self) -> np.ndarray:
        """Spawn point of each tile (its clearing centre) [m], shape (rows, cols, 3)."""
        return self.terrain.tile_origins

    @property
    def num_objects(self) -> int:
        """Number of placed instances of all types."""
        return sum(len(inst) for inst in self.instances.values())

    def add(self, name: str, instances: Instances, colliders: Colliders) -> None:
        """Record the instances and colliders of one asset type."""
        self.instances[name] = instances
        index = len(self.instances) - 1
        self.colliders = Colliders.concatenate([self.colliders, colliders])
        self.collider_asset = np.concatenate([self.collider_asset, np.full(len(colliders), index)])

    def keep_out(self, clearance: float, include_spawn: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Points to keep away from and the distance to keep from each: colliders placed so far and clearings.

        Args:
            clearance: Gap to leave around each collider footprint [m].
            include_spawn: Whether the spawn clearings are included.

        Returns:
            Points of shape (M, 2) and distances of shape (M,).
        """
        points = [self.colliders.positions[:, :2]]
        distances = [self.colliders.footprint + clearance]
        if include_spawn:
            spawn = self.spawn_points.reshape(-1, 3)[:, :2]
            points.append(spawn)
            distances.append(np.full(len(spawn), self.spec.terrain.spawn_clearing_radius))
        return np.concatenate(points), np.concatenate(distances)

    def tile_colliders(self, row: int, col: int) -> np.ndarray:
        """Indices of the colliders whose centre lies in tile ``(row, col)``."""
        r, c = self.terrain.tile_of(self.colliders.positions[:, :2])
        return np.flatnonzero((r == row) & (c == col))

    def digest(self) -> str:
        """SHA-256 of the scene's data: equal digests mean byte-identical scenes."""
        h = hashlib.sha256()
        for array in (self.terrain.heights, self.terrain.tile_origins, self.terrain.tile_difficulty):
            h.update(np.ascontiguousarray(array).tobytes())
        for name, inst in self.instances.items():
            h.update(name.encode())
            for array in (inst.positions, inst.yaw, inst.scale, inst.variant, inst.tile):
                h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()


@configclass
class SceneSpec:
    """A procedural generator of plausible environments: one terrain spec plus a palette of asset specs."""

    name: str = "scene"
    """Name of the scene (root prim name, listings)."""
    terrain: TerrainSpec = NoiseTerrainSpec()
    """The ground, tiled into patches of rising difficulty."""
    assets: list[AssetSpec] = []
    """Asset types, placed in this order: a later type keeps clear of earlier ones and can read them."""
    seed: int = 0
    """Default seed; environments pass their own."""
    scene_class: type = GeneratedScene
    """Class of the generated scene; subclass :class:`GeneratedScene` to carry extra data."""

    def __post_init__(self):
        if not isinstance(self.terrain, TerrainSpec):
            raise SpecError("scene.terrain", type(self.terrain).__name__, "a TerrainSpec such as NoiseTerrainSpec()")
        names = []
        for asset in self.assets:
            if not isinstance(asset, AssetSpec):
                raise SpecError("scene.assets", type(asset).__name__, "a list of AssetSpec (TreeSpec(), RockSpec()...)")
            asset.validate_for(self.terrain.tile_size)
            _check_asset_budgets(asset, self.terrain)
            names.append(asset.name)
        if len(set(names)) != len(names):
            raise SpecError("scene.assets", names, "asset types with distinct names")
        check_number("scene.seed", self.seed, 0, 2**63 - 1, integer=True)

    def generate(self, seed: int | None = None) -> GeneratedScene:
        """Generate the scene: terrain first, then each asset type in palette order.

        Args:
            seed: Seed of this scene; :attr:`seed` when None.

        Returns:
            The generated scene, an instance of :attr:`scene_class`.
        """
        seed = self.seed if seed is None else int(seed)
        check_number("seed", seed, 0, 2**63 - 1, integer=True)
        scene = self.scene_class(self, seed, self.terrain.generate(seed))
        for asset in self.assets:
            asset_seed = int(np.random.SeedSequence([seed, zlib.crc32(asset.name.encode())]).generate_state(1)[0])
            ctx = PlacementContext(scene=scene, rng=np.random.default_rng(asset_seed), seed=asset_seed)
            instances = asset.place(ctx)
            if len(instances) == 0:
                warn_placed_none(asset, self.terrain)
            scene.add(asset.name, instances, asset.colliders(instances))
        return scene


def _check_asset_budgets(asset: AssetSpec, terrain: TerrainSpec) -> None:
    """Refuse an asset type whose placement over ``terrain`` would exceed the size budgets (:mod:`.budgets`)."""
    size = terrain.area_size()
    area = size[0] * size[1]
    peak = peak_density(asset)
    field = f"assets.{asset.name}"
    check_lattice(f"{field}.patch_wavelength", asset.patch_wavelength, size, asset.patch_wavelength / 2,
                  f"a wavelength >= {2 * finest_spacing(size):.3g} m")
    check_darts(f"{field}.density_range", asset.density_range, area, peak, terrain.num_rows * terrain.num_cols)
    check_pairs(f"{field}.min_spacing", asset.min_spacing, area, peak)
