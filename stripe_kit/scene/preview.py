"""Top-down preview images of generated scenes, for checking a spec at a glance (CLI, GUI, reports)."""

from __future__ import annotations

import os

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import EllipseCollection
from matplotlib.colors import LightSource, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..errors import SpecError, check_number
from ..files import atomic_path
from .assets import AssetSpec
from .spec import GeneratedScene

TYPE_COLORS = {"tree": "#1b5e20", "rock": "#8d8d8d", "log": "#8d5a3b", "bush": "#9ccc65"}
"""Marker colour of the built-in asset types; other types take colours from matplotlib's ``tab10`` cycle."""

GROUND_COLORMAP = ListedColormap(colormaps["terrain"](np.linspace(0.25, 1.0, 256)), name="ground")
"""Land part of matplotlib's ``terrain`` colour map (no sea blue: heights are relative)."""

_DPI = 100


def render_preview(scene: GeneratedScene, path: str, size_px: int = 1024) -> str:
    """Draw a scene from above into a PNG file, atomically.

    Shows the shaded height map, each object as an ellipse of its footprint coloured by type, the tile grid,
    the spawn points and a title with the seed and the counts.

    Args:
        scene: The generated scene.
        path: PNG file to write.
        size_px: Width and height of the image [px].

    Returns:
        The absolute path written.
    """
    path = os.path.abspath(os.fspath(path))
    if not path.lower().endswith(".png"):
        raise SpecError("path", path, "a file ending in .png")
    if not os.path.isdir(os.path.dirname(path)) or os.path.isdir(path):
        raise SpecError("path", path, "a file path in an existing directory")
    check_number("size_px", size_px, 128, 8192, integer=True)
    figure = _draw(scene, int(size_px))
    with atomic_path(path) as temporary:
        FigureCanvasAgg(figure).print_png(str(temporary))
    return path


def _draw(scene: GeneratedScene, size_px: int) -> Figure:
    """The preview figure."""
    terrain = scene.terrain
    xmin, xmax, ymin, ymax = terrain.extent
    figure = Figure(figsize=(size_px / _DPI, size_px / _DPI), dpi=_DPI)
    axes = figure.add_axes((0.08, 0.07, 0.74, 0.82))
    axes.set_xlim(xmin, xmax)
    axes.set_ylim(ymin, ymax)
    axes.set_aspect("equal")
    axes.set_xlabel("x [m] (difficulty rises →)")
    axes.set_ylabel("y [m]")

    # height map, at most about one grid cell per pixel, hill-shaded over the terrain colour map
    stride = max(1, int(np.ceil(max(terrain.heights.shape) / size_px)))
    heights = terrain.heights[::stride, ::stride].astype(np.float64)
    low, high = float(heights.min()), float(heights.max())
    norm = Normalize(low, high if high - low > 1e-6 else low + 1.0)
    spacing = terrain.resolution * stride
    shaded = LightSource(azdeg=315, altdeg=45).shade(heights.T, GROUND_COLORMAP, norm=norm, blend_mode="soft",
                                                     vert_exag=3.0, dx=spacing, dy=spacing)
    axes.imshow(shaded, origin="lower", extent=(xmin, xmax, ymin, ymax), interpolation="bilinear")
    mappable = ScalarMappable(norm=norm, cmap=GROUND_COLORMAP)
    colorbar = figure.colorbar(mappable, cax=figure.add_axes((0.86, 0.07, 0.025, 0.82)))
    colorbar.set_label("ground height [m]")

    # objects as footprint ellipses, at least a pixel and a half wide so that small ones stay visible
    metres_per_px = (xmax - xmin) / (0.74 * size_px)
    palette = {asset.name: asset for asset in scene.spec.assets}
    handles = []
    for index, (name, instances) in enumerate(scene.instances.items()):
        color = TYPE_COLORS.get(name, colormaps["tab10"](index % 10))
        half_x, half_y = _footprint(palette.get(name), scene, name)
        if len(instances):
            outline = 0.3 if min(half_x, half_y) > 2 * metres_per_px else 0.0  # no outlines on dots
            axes.add_collection(EllipseCollection(
                widths=np.maximum(2 * half_x * instances.scale, 1.5 * metres_per_px),
                heights=np.maximum(2 * half_y * instances.scale, 1.5 * metres_per_px),
                angles=np.degrees(instances.yaw), units="xy", offsets=instances.positions[:, :2],
                offset_transform=axes.transData, facecolors=color, edgecolors="black", linewidths=outline, alpha=0.7,
            ))
        handles.append(Line2D([], [], marker="o", linestyle="", color=color, markeredgecolor="black",
                              label=f"{name} ({len(instances):,})"))

    # tile grid and spawn points
    sx, sy = terrain.tile_size
    grid = {"colors": "black", "linewidths": 0.6, "linestyles": "dashed", "alpha": 0.5}
    axes.vlines(xmin + sx * np.arange(1, terrain.num_rows), ymin, ymax, **grid)
    axes.hlines(ymin + sy * np.arange(1, terrain.num_cols), xmin, xmax, **grid)
    spawn = scene.spawn_points.reshape(-1, 3)
    star = float(np.clip(0.15 * min(sx, sy) / metres_per_px, 3.0, 9.0)) ** 2  # marker area [pt^2], a fraction of a tile
    axes.scatter(spawn[:, 0], spawn[:, 1], marker="*", s=star, color="white", edgecolors="black", linewidths=0.5,
                 zorder=5)
    handles.append(Line2D([], [], marker="*", linestyle="", color="white", markeredgecolor="black", markersize=10,
                          label=f"spawn points ({len(spawn)})"))
    axes.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)

    area = (xmax - xmin) * (ymax - ymin)
    axes.set_title(
        f"{scene.spec.name} · seed {scene.seed} · {terrain.num_rows}×{terrain.num_cols} tiles of {sx:g}×{sy:g} m "
        f"({area / 1e6:.3g} km²)\n{scene.num_objects:,} objects · {len(scene.colliders):,} colliders",
        fontsize=10,
    )
    return figure


def _footprint(asset: AssetSpec | None, scene: GeneratedScene, name: str) -> tuple[float, float]:
    """Half extents along the instance's x and y at scale 1 [m]: of its meshes, else about its colliders' radius."""
    meshes = asset.mesh_variants() if asset is not None else []
    if meshes:
        extents = np.array([np.abs(mesh.vertices[:, :2]).max(axis=0) for mesh in meshes])
        return tuple(extents.max(axis=0))
    footprint = scene.colliders.footprint[scene.collider_asset == scene.asset_names.index(name)]
    radius = float(np.median(footprint)) if len(footprint) else 0.5
    return radius, radius

