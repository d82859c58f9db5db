"""The showcase forest: trees, undergrowth, rocks and fallen logs on noise-shaped ground."""

from __future__ import annotations

from isaaclab.utils import configclass

from stripe_kit.scene import BushSpec, LogSpec, NoiseTerrainSpec, RockSpec, SceneSpec, TreeSpec


@configclass
class ForestSceneSpec(SceneSpec):
    """A forest whose tiles grow denser and hillier along the rows (the curriculum direction).

    Trees come first, then rocks and logs keep clear of them, then undergrowth fills what is left.
    """

    name: str = "forest"
    terrain: NoiseTerrainSpec = NoiseTerrainSpec(
        style="hills", tile_size=(8.0, 8.0), num_rows=6, num_cols=6, amplitude_range=(0.05, 0.4), wavelength=6.0
    )
    assets: list = [
        TreeSpec(density_range=(0.02, 0.12), min_spacing=1.6),
        RockSpec(density_range=(0.005, 0.03)),
        LogSpec(density_range=(0.0, 0.01)),
        BushSpec(density_range=(0.05, 0.2)),
    ]
