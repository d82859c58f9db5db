"""Size budgets of scene generation: what a spec may ask for before it is refused instead of exhausting memory.

Every array a scene generator allocates grows with one of three counts: the cells of the height grid, the cells
of a noise lattice, and the candidate instances (darts) an asset type throws, with the neighbour pairs their
spacing makes. Specs check these counts when they are built (so the CLI, overrides and the GUI all refuse them in
one line naming the field and the limit) and the generators check them again before they allocate.

The budgets are a few times what the largest documented scene needs (the 1 km² benchmark forest: a 2001 x 2001
grid at 0.5 m, 16.8 M cells of its finest noise lattice, about 0.35 M darts per asset type) and keep the peak
memory of one generation within a few GB.
"""

from __future__ import annotations

import math

from ..errors import SpecError

GRID_CELLS = 2**25
"""Height-grid cells of a terrain (33.5 M: 1.4 km x 1.4 km at 0.25 m). The grid is held as float64 while it is
generated (a few copies) and becomes the physics height field and its mesh: about 2 GB at the limit."""
NOISE_LATTICE_CELLS = 2**25
"""Cells of the finest noise lattice spanning the terrain, per noise layer (a wavelength of 0.25 m over 1.4 km²)."""
DARTS = 2**24
"""Candidate instances one asset type throws over the terrain (16.8 M): area times peak density."""
NEIGHBOUR_PAIRS = 2**26
"""Expected pairs of candidates closer than an asset type's ``min_spacing`` (67 M pairs, 1 GB of indices)."""


def grid_cells(extent: tuple[float, float], resolution: float) -> int:
    """Cells of a height grid of ``resolution`` [m] over ``extent`` (size along x and y) [m]."""
    return (round(extent[0] / resolution) + 1) * (round(extent[1] / resolution) + 1)


def lattice_cells(extent: tuple[float, float], spacing: float) -> float:
    """Cells of a noise lattice of ``spacing`` [m] over ``extent`` [m], margins included (as a float: it may be huge)."""
    return (extent[0] / spacing + 5) * (extent[1] / spacing + 5)


def finest_spacing(extent: tuple[float, float]) -> float:
    """Finest noise-lattice spacing [m] whose lattice over ``extent`` [m] fits :data:`NOISE_LATTICE_CELLS`."""
    return math.sqrt(extent[0] * extent[1] / NOISE_LATTICE_CELLS) * 1.01


def check_grid(field: str, value: float, extent: tuple[float, float], resolution: float) -> None:
    """Refuse a height grid of more than :data:`GRID_CELLS` cells, naming ``field``."""
    if grid_cells(extent, resolution) > GRID_CELLS:
        finest = math.sqrt(extent[0] * extent[1] / GRID_CELLS) * 1.001
        raise SpecError(field, value, f">= {finest:.3g} m for a {extent[0]:g} x {extent[1]:g} m terrain (the height "
                        f"grid is limited to {GRID_CELLS} cells)")


def check_lattice(field: str, value: float, extent: tuple[float, float], spacing: float, what: str) -> None:
    """Refuse noise whose finest lattice (``spacing`` [m]) over ``extent`` exceeds :data:`NOISE_LATTICE_CELLS`."""
    if lattice_cells(extent, spacing) > NOISE_LATTICE_CELLS:
        raise SpecError(field, value, f"{what} on a {extent[0]:g} x {extent[1]:g} m terrain (the finest noise "
                        f"lattice is limited to {NOISE_LATTICE_CELLS} cells; this one has "
                        f"{lattice_cells(extent, spacing):.3g})")


def check_darts(field: str, value: object, area: float, peak_density: float, tiles: int) -> None:
    """Refuse more than :data:`DARTS` candidate instances (``area * peak_density``), naming ``field``."""
    darts = area * peak_density
    if darts > DARTS:
        raise SpecError(field, value, f"a density whose peak ({peak_density:g}/m² with the patch noise) throws at "
                        f"most {DARTS} candidates over the terrain ({DARTS / tiles:.3g} per tile); this one "
                        f"throws {darts:.3g}")


def check_pairs(field: str, value: float, area: float, peak_density: float) -> None:
    """Refuse a spacing whose expected neighbour pairs at the peak density exceed :data:`NEIGHBOUR_PAIRS`."""
    pairs = area * peak_density**2 * math.pi * value**2 / 2
    if pairs > NEIGHBOUR_PAIRS:
        largest = math.sqrt(2 * NEIGHBOUR_PAIRS / (area * peak_density**2 * math.pi))
        raise SpecError(field, value, f"<= {largest:.3g} m at this density and terrain size (candidates closer "
                        f"than the spacing are limited to {NEIGHBOUR_PAIRS} pairs; this spacing makes {pairs:.3g})")
