"""Procedural visual meshes of the built-in asset types, and loading of user mesh files.

Meshes are low-poly (a few hundred faces), in metres, z up, with the instance origin on the ground (z = 0), and
deterministic: a variant index always gives the same mesh. Every face carries the colour of its part (bark,
foliage, rock...), listed in :data:`PART_COLORS`; :func:`mesh_parts` splits a mesh back into its parts so that a
writer binds one material per part. Physics never sees these meshes: each asset type collides as primitives.
"""

from __future__ import annotations

import os
import zlib

import numpy as np
import trimesh

from ..errors import SpecError

USD_EXTENSIONS = (".usd", ".usda", ".usdc")
"""USD files, referenced (not converted) when a scene is written."""
MESH_EXTENSIONS = (".obj", ".stl", ".ply", ".glb")
"""Mesh files, loaded with trimesh and written as USD meshes."""

PART_COLORS: dict[str, tuple[int, int, int]] = {
    "bark": (94, 66, 42),
    "foliage": (66, 120, 46),
    "needles": (36, 82, 48),
    "rock": (128, 125, 118),
    "deadwood": (116, 92, 66),
    "heartwood": (178, 144, 100),
    "marker": (200, 60, 160),
}
"""sRGB colour (0-255) of each named mesh part."""

_COLOR_PARTS = {color: name for name, color in PART_COLORS.items()}


def tree_mesh(variant: int, trunk_radius: float, trunk_height: float, canopy_radius: float) -> trimesh.Trimesh:
    """A tree: a tapered trunk under a canopy of perturbed blobs (even variants) or stacked cones (odd: conifers).

    Args:
        variant: Variant index; seeds the shape.
        trunk_radius: Trunk radius at the base [m].
        trunk_height: Trunk height, the height of its collider [m].
        canopy_radius: Canopy radius [m].
    """
    rng = _variant_rng("tree", variant)
    trunk = _tapered_cylinder(trunk_radius, 0.6 * trunk_radius, trunk_height, sections=8)
    parts = [_colored(trunk, "bark")]
    if variant % 2:
        # conifer: three cones narrowing upwards, the lowest starting a third of the way up the trunk
        base = 0.35 * trunk_height
        for level, shrink in enumerate((1.0, 0.75, 0.5)):
            radius = canopy_radius * shrink * rng.uniform(0.85, 1.05)
            height = (trunk_height - base) * 0.45 + canopy_radius * 0.5
            cone = trimesh.creation.cone(radius=radius, height=height, sections=16)
            cone.vertices[:, :2] += rng.uniform(-0.05, 0.05, 2) * canopy_radius
            cone.apply_translation([0.0, 0.0, base + level * height * 0.55])
            parts.append(_colored(cone, "needles"))
    else:
        # broadleaf: a main crown on top of the trunk and two smaller lobes around it
        crown = _blob(rng, canopy_radius * rng.uniform(0.85, 1.0), squash=0.85)
        crown.apply_translation([0.0, 0.0, trunk_height])
        parts.append(_colored(crown, "foliage"))
        for angle in rng.uniform(0.0, 2 * np.pi) + np.array([0.0, np.pi * rng.uniform(0.6, 1.4)]):
            lobe = _blob(rng, canopy_radius * rng.uniform(0.5, 0.65), squash=0.8)
            reach = 0.55 * canopy_radius
            lobe.apply_translation([reach * np.cos(angle), reach * np.sin(angle), trunk_height - 0.25 * canopy_radius])
            parts.append(_colored(lobe, "foliage"))
    return trimesh.util.concatenate(parts)


def rock_mesh(variant: int, radius: float, sink: float) -> trimesh.Trimesh:
    """A boulder: a perturbed, flattened icosphere whose top and width match its sunk sphere collider.

    Args:
        variant: Variant index; seeds the shape.
        radius: Radius of the collider sphere [m].
        sink: Sink of the collider (:attr:`RockSpec.sink`): its centre lies at ``radius * (1 - 2 * sink)``.
    """
    rng = _variant_rng("rock", variant)
    rock = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    rock.vertices *= rng.uniform(0.82, 1.0, (len(rock.vertices), 1))
    rock.vertices *= np.array([rng.uniform(0.9, 1.0), rng.uniform(0.8, 1.0), 0.8]) * radius
    # the collider sphere is centred at radius * (1 - 2 sink); lift the flattened rock so that both tops meet
    rock.apply_translation([0.0, 0.0, radius * (1 - 2 * sink) + 0.2 * radius])
    return _colored(rock, "rock")


def log_mesh(variant: int, radius: float, length: float) -> trimesh.Trimesh:
    """A fallen log: a slightly irregular cylinder along x, resting on the ground, with light cut ends.

    Args:
        variant: Variant index; seeds the shape.
        radius: Log radius [m].
        length: Log length, end to end [m].
    """
    rng = _variant_rng("log", variant)
    log = trimesh.creation.cylinder(radius=radius, height=length, sections=16)
    radial = np.hypot(log.vertices[:, 0], log.vertices[:, 1]) > 1e-9
    log.vertices[radial, :2] *= rng.uniform(0.9, 1.0, (int(radial.sum()), 1))
    log.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0.0, 1.0, 0.0]))
    log.apply_translation([0.0, 0.0, radius])
    colors = np.tile([*PART_COLORS["deadwood"], 255], (len(log.faces), 1))
    colors[np.abs(log.face_normals[:, 0]) > 0.9, :3] = PART_COLORS["heartwood"]
    log.visual.face_colors = colors
    return log


def bush_mesh(variant: int, radius: float) -> trimesh.Trimesh:
    """A bush: four or five squashed low-poly blobs clustered within ``radius`` of the origin.

    Args:
        variant: Variant index; seeds the shape.
        radius: Bush radius [m].
    """
    rng = _variant_rng("bush", variant)
    parts = []
    for _ in range(4 + variant % 2):
        size = radius * rng.uniform(0.45, 0.6)
        angle, reach = rng.uniform(0.0, 2 * np.pi), rng.uniform(0.0, radius - size)
        blob = _blob(rng, size, squash=0.75)
        blob.apply_translation([reach * np.cos(angle), reach * np.sin(angle), 0.7 * size])
        parts.append(_colored(blob, "foliage"))
    return trimesh.util.concatenate(parts)


def marker_mesh(radius: float = 0.25) -> trimesh.Trimesh:
    """A small icosahedron standing on the ground: the stand-in for asset types without a mesh of their own."""
    marker = trimesh.creation.icosphere(subdivisions=0, radius=radius)
    marker.apply_translation([0.0, 0.0, radius])
    return _colored(marker, "marker")


def load_mesh_file(path: str, field: str) -> trimesh.Trimesh:
    """Load a mesh file as one z-up mesh in a single colour (its mean colour, or rock grey when it has none).

    Args:
        path: ``.obj``, ``.stl``, ``.ply`` or ``.glb`` file.
        field: Spec field naming the file, for errors.

    Raises:
        SpecError: If the file cannot be read as a triangle mesh.
    """
    if not path.lower().endswith(MESH_EXTENSIONS) or not os.path.isfile(path):
        raise SpecError(field, path, f"an existing file ending in {', '.join(MESH_EXTENSIONS)}")
    try:
        mesh = trimesh.load(path, force="mesh")
    except Exception as error:  # trimesh raises many kinds of errors on bad files
        raise SpecError(field, path, f"a readable mesh file ({type(error).__name__}: {error})") from error
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise SpecError(field, path, "a mesh file with at least one triangle")
    if path.lower().endswith(".glb"):
        # glTF is y-up; turn it z-up like every other mesh of a scene
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1.0, 0.0, 0.0]))
    color = PART_COLORS["rock"]
    if mesh.visual.kind in ("face", "vertex"):
        color = tuple(int(c) for c in np.asarray(mesh.visual.face_colors)[:, :3].mean(axis=0).round())
    mesh.visual = trimesh.visual.ColorVisuals(mesh, face_colors=np.tile([*color, 255], (len(mesh.faces), 1)))
    return mesh


def mesh_parts(mesh: trimesh.Trimesh) -> list[tuple[str, tuple[int, int, int], np.ndarray]]:
    """Split a mesh into its coloured parts.

    Returns:
        One ``(name, color, faces)`` per distinct face colour, in order of first face: the part name from
        :data:`PART_COLORS` (``color_rrggbb`` for other colours), its sRGB colour (0-255), and the sorted
        indices of its faces.
    """
    colors = np.asarray(mesh.visual.face_colors)[:, :3]
    unique, first, inverse = np.unique(colors, axis=0, return_index=True, return_inverse=True)
    parts = []
    for index in np.argsort(first):
        color = tuple(int(c) for c in unique[index])
        name = _COLOR_PARTS.get(color, "color_{:02x}{:02x}{:02x}".format(*color))
        parts.append((name, color, np.flatnonzero(inverse.ravel() == index)))
    return parts


def _variant_rng(kind: str, variant: int) -> np.random.Generator:
    """Random stream of one variant of one mesh kind."""
    return np.random.default_rng([zlib.crc32(kind.encode()), int(variant)])


def _tapered_cylinder(bottom_radius: float, top_radius: float, height: float, sections: int) -> trimesh.Trimesh:
    """A closed cylinder standing on z = 0, narrowing from ``bottom_radius`` to ``top_radius``."""
    cylinder = trimesh.creation.cylinder(radius=bottom_radius, height=height, sections=sections)
    top = cylinder.vertices[:, 2] > 0
    cylinder.vertices[top, :2] *= top_radius / bottom_radius
    cylinder.apply_translation([0.0, 0.0, height / 2])
    return cylinder


def _blob(rng: np.random.Generator, radius: float, squash: float) -> trimesh.Trimesh:
    """A low-poly icosphere with random radial bumps, squashed vertically and centred on the origin."""
    blob = trimesh.creation.icosphere(subdivisions=1, radius=radius)
    blob.vertices *= rng.uniform(0.85, 1.12, (len(blob.vertices), 1))
    blob.vertices[:, 2] *= squash
    return blob


def _colored(mesh: trimesh.Trimesh, part: str) -> trimesh.Trimesh:
    """Give every face of ``mesh`` the colour of ``part``."""
    mesh.visual.face_colors = np.tile([*PART_COLORS[part], 255], (len(mesh.faces), 1))
    return mesh
