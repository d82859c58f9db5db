"""Scenes shared by the scene tests, generated once per test session."""

from __future__ import annotations

import functools

from stripe_kit.scene import BushSpec, GeneratedScene, LogSpec, NoiseTerrainSpec, RockSpec, SceneSpec, TreeSpec


def forest_spec(num_rows: int = 4, num_cols: int = 3, tile: float = 10.0) -> SceneSpec:
    """A small hilly forest with the four built-in asset types."""
    terrain = NoiseTerrainSpec(tile_size=(tile, tile), num_rows=num_rows, num_cols=num_cols)
    return SceneSpec(name="test_forest", terrain=terrain, assets=[TreeSpec(), RockSpec(), LogSpec(), BushSpec()])


@functools.cache
def forest(seed: int = 3) -> GeneratedScene:
    """The small forest of :func:`forest_spec` for ``seed``; treat it as read-only."""
    return forest_spec().generate(seed)
