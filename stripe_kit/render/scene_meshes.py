"""The generated scene's visual meshes, merged for a renderer: the shaded terrain and one mesh per mesh part.

Physics only holds the terrain's height fields and a few obstacle collider slots per env, so the trees, rocks,
logs and bushes a video shows come from the scene itself: every instance's variant mesh (the same meshes the USD
export writes) is placed, and all faces of one part colour (bark, foliage, rock...) are merged into one mesh. A
ray tracer then holds a handful of meshes, each with one BVH, rather than thousands of instances. Only what lies
within a square around the camera's start is kept (``radius``), so a 1 km² forest stays a few hundred thousand
triangles.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import trimesh
from matplotlib.colors import LightSource, ListedColormap
from matplotlib import colormaps

from ..scene.assets import AssetSpec
from ..scene.meshes import mesh_parts
from ..scene.spec import GeneratedScene
from ..scene.terrain import terrain_mesh

GROUND_COLORMAP = ListedColormap(colormaps["gist_earth"](np.linspace(0.35, 0.62, 256)), name="forest_floor")
"""Ground colours from low to high terrain: deep green through olive to earth brown."""


@dataclasses.dataclass
class RenderMesh:
    """One static mesh of the scene, ready for a renderer."""

    name: str
    """Part name (``terrain``, ``bark``, ``foliage``...)."""
    vertices: np.ndarray
    """Vertex positions [m], shape (V, 3), float32."""
    faces: np.ndarray
    """Triangle vertex indices, shape (F, 3), int32."""
    color: tuple[float, float, float]
    """sRGB colour in [0, 1] (multiplied by the texture where there is one)."""
    uvs: np.ndarray | None = None
    """Texture coordinates, shape (V, 2), or None."""
    texture: np.ndarray | None = None
    """RGBA texture image, shape (H, W, 4), uint8, or None."""
    normals: np.ndarray | None = None
    """Vertex normals for smooth shading, shape (V, 3), or None (flat shading)."""


def scene_render_meshes(scene: GeneratedScene, center: tuple[float, float] | None = None,
                        radius: float | None = None) -> list[RenderMesh]:
    """The terrain and the scene's objects as merged meshes, optionally only those near ``center``.

    Args:
        scene: The generated scene.
        center: Centre (x, y) of the square kept [m]; None keeps everything.
        radius: Half side of the square kept [m]; None keeps everything.
    """
    low = high = None
    if center is not None and radius is not None:
        low, high = np.asarray(center, float) - radius, np.asarray(center, float) + radius
    meshes = [terrain_render_mesh(scene, low, high)]
    palette = {asset.name: asset for asset in scene.spec.assets}
    parts: dict[tuple[str, tuple[int, int, int]], list[trimesh.Trimesh]] = {}
    for name, instances in scene.instances.items():
        if not len(instances):
            continue
        asset = palette.get(name, AssetSpec(name=name))
        variants = asset.mesh_variants()
        if not variants:
            continue
        keep = np.ones(len(instances), bool)
        if low is not None:
            xy = instances.positions[:, :2]
            keep = np.all((xy >= low) & (xy <= high), axis=1)
        split = [[(part, color, variant.submesh([faces], append=True)) for part, color, faces in mesh_parts(variant)]
                 for variant in variants]
        for index in np.flatnonzero(keep):
            transform = trimesh.transformations.rotation_matrix(float(instances.yaw[index]), [0.0, 0.0, 1.0])
            transform[:3, :3] *= float(instances.scale[index])
            transform[:3, 3] = instances.positions[index]
            for part, color, mesh in split[int(instances.variant[index]) % len(split)]:
                parts.setdefault((part, color), []).append(mesh.copy().apply_transform(transform))
    for (part, color), pieces in parts.items():
        merged = trimesh.util.concatenate(pieces)
        meshes.append(RenderMesh(part, np.asarray(merged.vertices, np.float32), np.asarray(merged.faces, np.int32),
                                 tuple(c / 255.0 for c in color)))
    return meshes


def terrain_render_mesh(scene: GeneratedScene, low: np.ndarray | None = None,
                        high: np.ndarray | None = None) -> RenderMesh:
    """The ground, with a texture shaded by height and hill shading, and smooth vertex normals.

    Args:
        scene: The generated scene.
        low: Lowest (x, y) corner kept [m] (None: the whole terrain).
        high: Highest (x, y) corner kept [m].
    """
    data = scene.terrain
    mesh = terrain_mesh(data, scene.spec.terrain.vertical_scale)
    if low is not None:
        centres = mesh.triangles_center[:, :2]
        faces = np.flatnonzero(np.all((centres >= low) & (centres <= high), axis=1))
        if faces.size:
            mesh = mesh.submesh([faces], append=True)
    heights = np.asarray(data.heights, float)
    nx, ny = heights.shape
    extent = np.array([(nx - 1) * data.resolution, (ny - 1) * data.resolution])
    vertices = np.asarray(mesh.vertices, np.float32)
    uvs = ((vertices[:, :2] - np.array([data.x0, data.y0])) / extent).astype(np.float32)
    # the texture's rows run along y (v), its columns along x (u); v = 0 is the image's first row
    span = max(float(np.ptp(heights)), 1e-3)
    shaded = LightSource(azdeg=315, altdeg=50).shade(heights.T, GROUND_COLORMAP, blend_mode="soft",
                                                     vert_exag=1.0 / data.resolution * 0.25,
                                                     vmin=heights.min() - 0.1 * span, vmax=heights.max())
    rng = np.random.default_rng(scene.seed)
    speckle = 1.0 + 0.08 * rng.standard_normal(shaded.shape[:2])[..., None]
    texture = np.clip(shaded[..., :3] * speckle, 0.0, 1.0)
    texture = np.concatenate([texture, np.ones(texture.shape[:2] + (1,))], axis=2)
    return RenderMesh("terrain", vertices, np.asarray(mesh.faces, np.int32), (1.0, 1.0, 1.0), uvs=uvs,
                      texture=(texture * 255).astype(np.uint8), normals=np.asarray(mesh.vertex_normals, np.float32))
