"""Asset specs: the types of object a scene scatters (trees, rocks, logs, bushes, user assets).

Each :class:`AssetSpec` owns its placement (:meth:`AssetSpec.place`) and says how one instance collides
(:meth:`AssetSpec.colliders`): a few primitive shapes, never the visual mesh, so physics stays cheap. Visual meshes
are built separately (:mod:`stripe_kit.scene.meshes`) and instanced when the scene is written to USD.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import MISSING
from typing import TYPE_CHECKING

import numpy as np
import trimesh
from isaaclab.utils import configclass

from ..errors import SpecError, check_number, check_range
from .meshes import (
    MESH_EXTENSIONS,
    USD_EXTENSIONS,
    bush_mesh,
    load_mesh_file,
    log_mesh,
    marker_mesh,
    rock_mesh,
    tree_mesh,
)
from .budgets import check_darts
from .noise import fractal_noise
from .placement import clear_of, spaced_subset

if TYPE_CHECKING:
    from .spec import GeneratedScene

_PATCH_GAIN = 1.5
"""Gain of the patch noise on density: with patchiness 1, density spans 0 to 2.5 times its tile's base."""

CAPSULE, SPHERE, BOX = "capsule", "sphere", "box"
"""Primitive collider kinds; sizes are (radius, half_height, 0), (radius, 0, 0) and half extents (x, y, z).

Capsules and spheres collide in training (each environment has collider slots of both kinds);
boxes are written to USD but do not collide in training."""
COLLIDER_KINDS = (CAPSULE, SPHERE, BOX)
"""Every primitive collider kind (:func:`make_colliders`)."""


@dataclasses.dataclass
class Instances:
    """Placed instances of one asset type."""

    positions: np.ndarray
    """Base position on the ground [m], shape (N, 3)."""
    yaw: np.ndarray
    """Rotation about z [rad], shape (N,)."""
    scale: np.ndarray
    """Uniform scale, shape (N,)."""
    variant: np.ndarray
    """Index of the mesh variant, shape (N,), int."""
    tile: np.ndarray
    """Row and column of the tile holding each instance, shape (N, 2), int."""

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def orientations(self) -> np.ndarray:
        """Orientation quaternions (x, y, z, w), the convention of Isaac Lab 3 and Newton, shape (N, 4)."""
        return yaw_quaternions(self.yaw)

    @classmethod
    def empty(cls) -> Instances:
        """No instances."""
        return cls(np.zeros((0, 3)), np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))


@dataclasses.dataclass
class Colliders:
    """Primitive colliders of many instances: one shape per row."""

    kind: np.ndarray
    """Collider kind per shape (:data:`CAPSULE`, :data:`SPHERE` or :data:`BOX`), shape (M,), str."""
    positions: np.ndarray
    """Shape centre [m], shape (M, 3)."""
    orientations: np.ndarray
    """Shape orientation (x, y, z, w), shape (M, 4); a capsule's axis is its local z."""
    sizes: np.ndarray
    """Kind-specific sizes [m], shape (M, 3)."""

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def footprint(self) -> np.ndarray:
        """Radius of the ground circle each shape covers [m], shape (M,)."""
        horizontal = np.abs(_rotate_z_axis(self.orientations)[:, 2]) < 0.5
        radius = self.sizes[:, 0].copy()
        radius[(self.kind == CAPSULE) & horizontal] += self.sizes[(self.kind == CAPSULE) & horizontal, 1]
        box = self.kind == BOX
        radius[box] = np.hypot(self.sizes[box, 0], self.sizes[box, 1])
        return radius

    @classmethod
    def concatenate(cls, parts: list[Colliders]) -> Colliders:
        """Join colliders of several asset types."""
        if not parts:
            return cls(np.zeros(0, dtype="<U8"), np.zeros((0, 3)), np.zeros((0, 4)), np.zeros((0, 3)))
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(cls)))


@dataclasses.dataclass
class PlacementContext:
    """What an asset spec sees when it places its instances: the scene so far and its own random stream."""

    scene: GeneratedScene
    """The scene being generated: terrain, extra data, and every asset type placed before this one."""
    rng: np.random.Generator
    """Random stream of this asset type, derived from the scene seed and the type's name."""
    seed: int
    """Integer seed of this asset type, for noise fields."""


@configclass
class AssetSpec:
    """An asset type that scatters itself over the terrain with Poisson-disk spacing.

    Density rises with tile difficulty and is modulated by a noise field (clusters and glades); masks keep
    instances off steep or out-of-range ground, out of spawn clearings and away from earlier placements.
    Subclasses say what an instance looks like and how it collides.
    """

    name: str = MISSING
    """Name of the asset type (prim names, previews, MDP terms)."""
    density_range: tuple[float, float] = (0.05, 0.2)
    """Instances per square metre on the easiest and the hardest row (before masks and spacing), each in [0, 100].
    A :meth:`density` override must stay at or below ``max(density_range) * (1 + 1.5 * patchiness)``."""
    min_spacing: float = 1.0
    """Minimum distance between two instances of this type [m]."""
    clearance: float = 0.2
    """Minimum gap between an instance and any collider placed before it [m]."""
    scale_range: tuple[float, float] = (0.8, 1.2)
    """Uniform scale drawn per instance."""
    num_variants: int = 3
    """Number of mesh variants, drawn per instance."""
    max_slope: float = 1.0
    """Steepest ground (rise over run) an instance stands on."""
    height_range: tuple[float, float] = (-1000.0, 1000.0)
    """Ground heights an instance stands within [m]."""
    patchiness: float = 0.5
    """How much a noise field modulates density: 0 is uniform, 1 is dense clusters and bare glades."""
    patch_wavelength: float = 12.0
    """Size of the clusters and glades [m]."""
    avoid_spawn: bool = True
    """Whether instances keep out of the spawn clearings."""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SpecError(f"{type(self).__name__}.name", self.name, "an identifier such as 'tree'")
        field = f"assets.{self.name}"
        check_range(f"{field}.density_range", self.density_range, 0.0, 100.0)
        check_number(f"{field}.min_spacing", self.min_spacing, 0.0, 1000.0)
        check_number(f"{field}.clearance", self.clearance, 0.0, 1000.0)
        check_range(f"{field}.scale_range", self.scale_range, 0.01, 100.0)
        check_number(f"{field}.num_variants", self.num_variants, 1, 64, integer=True)
        check_number(f"{field}.max_slope", self.max_slope, 0.0, 100.0)
        check_range(f"{field}.height_range", self.height_range)
        check_number(f"{field}.patchiness", self.patchiness, 0.0, 1.0)
        check_number(f"{field}.patch_wavelength", self.patch_wavelength, 0.0, 10000.0, low_open=True)

    def validate_for(self, terrain_tile_size: tuple[float, float]) -> None:
        """Check the parameters that depend on the terrain (spacing must fit in a tile)."""
        if self.min_spacing > min(terrain_tile_size):
            raise SpecError(f"assets.{self.name}.min_spacing", self.min_spacing,
                            f"a spacing no larger than the tile ({min(terrain_tile_size)} m)")

    def place(self, ctx: PlacementContext) -> Instances:
        """Scatter this asset type over the whole terrain.

        Args:
            ctx: The scene so far and this type's random stream.

        Returns:
            The placed instances.
        """
        terrain = ctx.scene.terrain
        xmin, xmax, ymin, ymax = terrain.extent
        area = (xmax - xmin) * (ymax - ymin)
        peak = peak_density(self)
        if peak == 0:
            return Instances.empty()
        check_darts(f"assets.{self.name}.density_range", self.density_range, area, peak,
                    terrain.num_rows * terrain.num_cols)
        # darts at the peak density, thinned to the local density: a Poisson process of that density. The darts
        # are uniform over the area but stored tile by tile, so that every later step reads memory in order.
        count = rng_count(area * peak)
        num_tiles = terrain.num_rows * terrain.num_cols
        tile = np.repeat(np.arange(num_tiles), ctx.rng.multinomial(count, np.full(num_tiles, 1.0 / num_tiles)))
        row, col = np.divmod(tile, terrain.num_cols)
        size = np.asarray(terrain.tile_size)
        xy = np.column_stack([xmin + row * size[0], ymin + col * size[1]]) + ctx.rng.uniform(0.0, 1.0, (count, 2)) * size
        keep = ctx.rng.uniform(0.0, peak, count) < self.density(ctx, xy)
        xy = xy[keep]
        xy = xy[self.ground_mask(ctx, xy)]
        xy = xy[clear_of(xy, *ctx.scene.keep_out(self.clearance, include_spawn=False))]
        if self.avoid_spawn:
            # the whole collider stays out of the clearing, not just the instance's origin
            spawn = ctx.scene.spawn_points.reshape(-1, 3)[:, :2]
            xy = xy[clear_of(xy, spawn, ctx.scene.spec.terrain.spawn_clearing_radius + self.max_footprint())]
        xy = xy[spaced_subset(xy, self.min_spacing, ctx.rng)]
        n = len(xy)
        return Instances(
            positions=np.column_stack([xy, terrain.height_at(xy)]),
            yaw=ctx.rng.uniform(-np.pi, np.pi, n),
            scale=ctx.rng.uniform(*self.scale_range, n),
            variant=ctx.rng.integers(0, self.num_variants, n),
            tile=np.column_stack(terrain.tile_of(xy)),
        )

    def density(self, ctx: PlacementContext, xy: np.ndarray) -> np.ndarray:
        """Target density [1/m^2] at points ``xy``: rises with tile difficulty, modulated by patch noise.

        Overrides must stay at or below ``max(density_range) * (1 + 1.5 * patchiness)``, the rate darts are thrown at.
        """
        terrain = ctx.scene.terrain
        row, col = terrain.tile_of(xy)
        difficulty = terrain.tile_difficulty[row, col]
        base = np.interp(difficulty, (0.0, 1.0), self.density_range)
        patches = fractal_noise(xy[:, 0], xy[:, 1], ctx.seed, self.patch_wavelength, 2)
        return base * np.clip(1.0 + _PATCH_GAIN * self.patchiness * patches, 0.0, None)

    def ground_mask(self, ctx: PlacementContext, xy: np.ndarray) -> np.ndarray:
        """Mask of points whose ground slope and height suit this asset type."""
        terrain = ctx.scene.terrain
        height = terrain.height_at(xy)
        return (terrain.slope_at(xy) <= self.max_slope) & (height >= self.height_range[0]) & (height <= self.height_range[1])

    def colliders(self, instances: Instances) -> Colliders:
        """Primitive colliders of the instances; none by default (the type is passable).

        Build them with :func:`upright_capsules`, :func:`ground_spheres` or :func:`make_colliders`.
        """
        return Colliders.concatenate([])

    def max_footprint(self) -> float:
        """Farthest reach of one instance's colliders from its origin on the ground, at the largest scale [m]."""
        probe = Instances(np.zeros((1, 3)), np.zeros(1), np.full(1, max(self.scale_range)), np.zeros(1, np.int64),
                          np.zeros((1, 2), np.int64))
        colliders = self.colliders(probe)
        reach = np.hypot(colliders.positions[:, 0], colliders.positions[:, 1]) + colliders.footprint
        return float(reach.max()) if len(colliders) else 0.0

    def mesh_variants(self) -> list[trimesh.Trimesh]:
        """Visual mesh of each variant at scale 1, origin on the ground; variant ``i`` shows mesh ``i % len``.

        Colours are per face: set ``mesh.visual.face_colors`` to sRGB(A) values 0-255; each distinct colour becomes
        one UsdPreviewSurface material. The base type has no shape of its own and shows a small marker.
        """
        return [marker_mesh()]


@configclass
class TreeSpec(AssetSpec):
    """A tree: a trunk that collides as an upright capsule, and a canopy that is visual only."""

    name: str = "tree"
    density_range: tuple[float, float] = (0.03, 0.25)
    min_spacing: float = 1.5
    trunk_radius: float = 0.15
    """Trunk radius at scale 1 [m]."""
    trunk_height: float = 4.0
    """Trunk height at scale 1 [m]."""
    canopy_radius: float = 1.5
    """Canopy radius at scale 1 [m] (visual)."""
    collider_height: float = 1.5
    """Height of the trunk collider at scale 1 [m]: the part of the trunk a ground robot can touch. A short
    collider keeps MuJoCo's bounding sphere tight, so the broadphase culls trunks the robot is not near."""

    def __post_init__(self):
        super().__post_init__()
        check_number("assets.tree.trunk_radius", self.trunk_radius, 0.0, 10.0, low_open=True)
        check_number("assets.tree.trunk_height", self.trunk_height, 2 * self.trunk_radius, 200.0, low_open=True)
        check_number("assets.tree.canopy_radius", self.canopy_radius, 0.0, 50.0)
        check_number("assets.tree.collider_height", self.collider_height, 2 * self.trunk_radius, self.trunk_height, low_open=True)

    def colliders(self, instances: Instances) -> Colliders:
        """One upright capsule per trunk, standing on the ground, as tall as :attr:`collider_height`."""
        return upright_capsules(instances, self.trunk_radius, self.collider_height)

    def mesh_variants(self) -> list[trimesh.Trimesh]:
        """Broadleaf (even variants) and conifer (odd variants) trees of this type's trunk and canopy sizes."""
        return [tree_mesh(v, self.trunk_radius, self.trunk_height, self.canopy_radius) for v in range(self.num_variants)]


@configclass
class RockSpec(AssetSpec):
    """A rock: a boulder half sunk in the ground that collides as a sphere."""

    name: str = "rock"
    density_range: tuple[float, float] = (0.01, 0.08)
    min_spacing: float = 1.0
    scale_range: tuple[float, float] = (0.5, 1.5)
    radius: float = 0.35
    """Boulder radius at scale 1 [m]."""
    sink: float = 0.4
    """Fraction of the radius below ground."""

    def __post_init__(self):
        super().__post_init__()
        check_number("assets.rock.radius", self.radius, 0.0, 20.0, low_open=True)
        check_number("assets.rock.sink", self.sink, 0.0, 0.9)

    def colliders(self, instances: Instances) -> Colliders:
        """One sphere per rock, sunk by :attr:`sink` of its radius."""
        return ground_spheres(instances, self.radius, self.sink)

    def mesh_variants(self) -> list[trimesh.Trimesh]:
        """Flattened boulders whose visible part matches the sunk sphere collider."""
        return [rock_mesh(v, self.radius, self.sink) for v in range(self.num_variants)]


@configclass
class LogSpec(AssetSpec):
    """A fallen log: a capsule lying on the ground along its yaw direction."""

    name: str = "log"
    density_range: tuple[float, float] = (0.0, 0.03)
    min_spacing: float = 3.0
    radius: float = 0.18
    """Log radius at scale 1 [m]."""
    length: float = 3.0
    """Log length at scale 1 [m]."""

    def __post_init__(self):
        super().__post_init__()
        check_number("assets.log.radius", self.radius, 0.0, 5.0, low_open=True)
        check_number("assets.log.length", self.length, 2 * self.radius, 50.0, low_open=True)

    def colliders(self, instances: Instances) -> Colliders:
        """One horizontal capsule per log, resting on the ground."""
        radius = self.radius * instances.scale
        half_height = np.maximum(self.length * instances.scale / 2 - radius, 0.0)
        centres = instances.positions + np.column_stack([np.zeros((len(instances), 2)), radius])
        # lie the capsule's z axis down along the yaw direction: yaw about z, then 90 degrees about y
        lying = quaternion_multiply(instances.orientations, np.tile([0.0, np.sin(np.pi / 4), 0.0, np.cos(np.pi / 4)], (len(instances), 1)))
        return make_colliders(CAPSULE, centres, lying, np.column_stack([radius, half_height, 0 * radius]))

    def mesh_variants(self) -> list[trimesh.Trimesh]:
        """Logs along x, the axis of the lying capsule collider."""
        return [log_mesh(v, self.radius, self.length) for v in range(self.num_variants)]


@configclass
class BushSpec(AssetSpec):
    """Undergrowth: low bushes that are visual only, so a robot pushes through them."""

    name: str = "bush"
    density_range: tuple[float, float] = (0.05, 0.2)
    min_spacing: float = 0.8
    clearance: float = 0.3
    radius: float = 0.5
    """Bush radius at scale 1 [m] (visual)."""

    def __post_init__(self):
        super().__post_init__()
        check_number("assets.bush.radius", self.radius, 0.0, 10.0, low_open=True)

    def mesh_variants(self) -> list[trimesh.Trimesh]:
        """Clusters of leafy blobs of this type's radius."""
        return [bush_mesh(v, self.radius) for v in range(self.num_variants)]


@configclass
class FileAssetSpec(AssetSpec):
    """A user asset from a USD or mesh file, referenced (not copied) when the scene is written.

    It collides as an upright capsule of :attr:`collider_radius` and :attr:`collider_height`, or not at all
    when the radius is 0.
    """

    path: str = MISSING
    """USD (``.usd``, ``.usda``, ``.usdc``) or mesh (``.obj``, ``.stl``, ``.ply``, ``.glb``) file."""
    collider_radius: float = 0.0
    """Radius of the capsule collider at scale 1 [m]; 0 for no collider."""
    collider_height: float = 1.0
    """Height of the capsule collider at scale 1 [m]."""

    def __post_init__(self):
        super().__post_init__()
        extensions = USD_EXTENSIONS + MESH_EXTENSIONS
        if not isinstance(self.path, str) or not self.path.lower().endswith(extensions):
            raise SpecError(f"assets.{self.name}.path", self.path, f"a file ending in {', '.join(extensions)}")
        if not os.path.isfile(self.path):
            raise SpecError(f"assets.{self.name}.path", self.path, "an existing file")
        check_number(f"assets.{self.name}.collider_radius", self.collider_radius, 0.0, 50.0)
        check_number(f"assets.{self.name}.collider_height", self.collider_height, 2 * self.collider_radius, 200.0)

    def colliders(self, instances: Instances) -> Colliders:
        """An upright capsule per instance, if :attr:`collider_radius` is set."""
        if self.collider_radius <= 0:
            return super().colliders(instances)
        return upright_capsules(instances, self.collider_radius, self.collider_height)

    @property
    def references_usd(self) -> bool:
        """Whether :attr:`path` is a USD file, which writers reference instead of converting it to a mesh."""
        return self.path.lower().endswith(USD_EXTENSIONS)

    def mesh_variants(self) -> list[trimesh.Trimesh]:
        """The file's mesh for every variant; none for a USD file, which writers reference instead."""
        if self.references_usd:
            return []
        return [load_mesh_file(self.path, f"assets.{self.name}.path")]


def peak_density(asset: AssetSpec) -> float:
    """Highest density [1/m^2] the asset type's darts are thrown at: its density range's top times the patch gain."""
    return max(asset.density_range) * (1.0 + _PATCH_GAIN * asset.patchiness)


def rng_count(value: float) -> int:
    """Number of darts to throw, capped to keep memory bounded."""
    return int(min(max(value, 0), 5e7))


def yaw_quaternions(yaw: np.ndarray) -> np.ndarray:
    """Quaternions (x, y, z, w) of rotations by ``yaw`` about z."""
    return np.column_stack([np.zeros_like(yaw), np.zeros_like(yaw), np.sin(yaw / 2), np.cos(yaw / 2)])


def quaternion_multiply(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions (x, y, z, w), row by row."""
    x1, y1, z1, w1 = q1.T
    x2, y2, z2, w2 = q2.T
    return np.column_stack([
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
    ])


def _rotate_z_axis(q: np.ndarray) -> np.ndarray:
    """The local z axis of each orientation (x, y, z, w) in world coordinates."""
    x, y, z, w = q.T
    return np.column_stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)])


def make_colliders(kind: str, positions: np.ndarray, orientations: np.ndarray, sizes: np.ndarray) -> Colliders:
    """Colliders of one kind, one per row: what :meth:`AssetSpec.colliders` returns.

    Args:
        kind: :data:`CAPSULE`, :data:`SPHERE` or :data:`BOX`.
        positions: Shape centres [m], shape (M, 3).
        orientations: Orientations (x, y, z, w), shape (M, 4); a capsule's axis is its local z.
        sizes: Capsule (radius, half_height, 0), sphere (radius, 0, 0) or box half extents (x, y, z) [m], shape (M, 3).
    """
    if kind not in COLLIDER_KINDS:
        raise SpecError("collider kind", kind, f"one of {', '.join(COLLIDER_KINDS)}")
    positions, orientations, sizes = (np.asarray(a, dtype=float) for a in (positions, orientations, sizes))
    count = len(positions)
    for name, array, width in (("positions", positions, 3), ("orientations", orientations, 4), ("sizes", sizes, 3)):
        if array.shape != (count, width):
            raise SpecError(f"colliders.{name}", array.shape, f"shape ({count}, {width})")
    return Colliders(np.full(count, kind, dtype="<U8"), positions, orientations, sizes)


def upright_capsules(instances: Instances, radius: float, height: float) -> Colliders:
    """One upright capsule per instance, standing on the ground: ``radius`` and total ``height`` [m] at scale 1."""
    radius = radius * instances.scale
    half_height = np.maximum(height * instances.scale / 2 - radius, 0.0)
    centres = instances.positions + np.column_stack([np.zeros((len(instances), 2)), half_height + radius])
    return make_colliders(CAPSULE, centres, instances.orientations, np.column_stack([radius, half_height, 0 * radius]))


def ground_spheres(instances: Instances, radius: float, sink: float = 0.0) -> Colliders:
    """One sphere per instance of ``radius`` [m] at scale 1, sunk into the ground by ``sink`` of its radius."""
    radius = radius * instances.scale
    centres = instances.positions + np.column_stack([np.zeros((len(instances), 2)), radius * (1 - 2 * sink)])
    zeros = np.zeros_like(radius)
    return make_colliders(SPHERE, centres, instances.orientations, np.column_stack([radius, zeros, zeros]))
