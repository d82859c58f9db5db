"""Seeded fractal value noise, evaluated at arbitrary world coordinates.

Terrain heights, density fields and canopy jitter all come from here, so one seed fixes a whole scene.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import map_coordinates

from ..errors import SpecError
from .budgets import NOISE_LATTICE_CELLS

_SPLINE_GAIN = 1.7
"""Gain that brings B-spline-smoothed lattice noise back to about [-1, 1]."""


def fractal_noise(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    wavelength: float,
    octaves: int = 4,
    persistence: float = 0.5,
    lacunarity: float = 2.0,
) -> np.ndarray:
    """Sum ``octaves`` layers of smooth value noise at points ``(x, y)`` [m].

    Each octave smooths a random lattice (spacing ``wavelength / lacunarity**k``) with a cubic B-spline, which
    is local, so any sub-region evaluates to the same values as the whole.
    The result lies in [-1, 1].

    Args:
        x: Point x coordinates [m], any shape.
        y: Point y coordinates [m], same shape as ``x``.
        seed: Seed of the lattices; the same seed gives the same field.
        wavelength: Feature size of the first octave [m].
        octaves: Number of layers.
        persistence: Amplitude ratio between successive octaves.
        lacunarity: Frequency ratio between successive octaves.

    Returns:
        Noise values, shape of ``x``.

    Raises:
        SpecError: If an octave's lattice over the points would exceed
            :data:`~stripe_kit.scene.budgets.NOISE_LATTICE_CELLS` (checked before anything is allocated).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    rng = np.random.default_rng(seed)
    total = np.zeros(x.shape, dtype=np.float64)
    norm = 0.0
    x0, y0 = (float(x.min()), float(y.min())) if x.size else (0.0, 0.0)
    if x.size:
        finest = wavelength / lacunarity ** (octaves - 1)
        cells = ((float(x.max()) - x0) / finest + 5) * ((float(y.max()) - y0) / finest + 5)
        if not cells <= NOISE_LATTICE_CELLS:
            raise SpecError("noise wavelength", wavelength, f"a wavelength whose finest lattice over the points has at "
                            f"most {NOISE_LATTICE_CELLS} cells ({cells:.3g} asked)")
    for octave in range(octaves):
        spacing = wavelength / lacunarity**octave
        amplitude = persistence**octave
        # lattice anchored on a global grid so that evaluating a sub-region gives the same values
        i0, j0 = np.floor(x0 / spacing) - 2, np.floor(y0 / spacing) - 2
        u = x / spacing - i0
        v = y / spacing - j0
        shape = (int(np.ceil(u.max())) + 4, int(np.ceil(v.max())) + 4) if x.size else (4, 4)
        lattice = _lattice(rng.integers(2**63), int(i0), int(j0), shape)
        total += amplitude * map_coordinates(lattice, [u.ravel(), v.ravel()], order=3, mode="nearest", prefilter=False).reshape(x.shape)
        norm += amplitude
    # the B-spline smooths the lattice (std about 0.17 per octave sum); rescale to about [-1, 1]
    return np.clip(total / norm * _SPLINE_GAIN, -1.0, 1.0)


def _lattice(octave_seed: int, i0: int, j0: int, shape: tuple[int, int]) -> np.ndarray:
    """Random lattice values in [-1, 1] for cells ``[i0, i0 + shape[0]) x [j0, j0 + shape[1])``.

    Values are a hash of the integer cell coordinates, so they do not depend on the queried region.
    """
    i = np.arange(i0, i0 + shape[0], dtype=np.int64).view(np.uint64)[:, None]
    j = np.arange(j0, j0 + shape[1], dtype=np.int64).view(np.uint64)[None, :]
    h = (i * np.uint64(0x9E3779B97F4A7C15)) ^ (j * np.uint64(0xC2B2AE3D27D4EB4F)) ^ np.uint64(octave_seed)
    # splitmix64 finaliser
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53) * 2.0 - 1.0
