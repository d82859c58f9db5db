"""Poisson-disk placement over the whole tiled area at once, vectorised with scipy's KD-tree.

Candidates are thrown uniformly, thinned by a density field and by masks, kept clear of what was placed before,
and reduced to a set with a minimum spacing by a parallel maximal-independent-set pass (Luby's algorithm). Every
step is NumPy over all tiles together, so a square kilometre of forest takes seconds, not minutes.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def spaced_subset(xy: np.ndarray, spacing: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of a random maximal subset of ``xy`` whose points are all at least ``spacing`` apart.

    Args:
        xy: Candidate points, shape (N, 2).
        spacing: Minimum distance between kept points [m].
        rng: Source of the random priorities that decide conflicts.

    Returns:
        Sorted indices into ``xy`` of the kept points.
    """
    n = len(xy)
    if n == 0 or spacing <= 0:
        return np.arange(n)
    pairs = cKDTree(xy).query_pairs(spacing, output_type="ndarray")
    priority = rng.permutation(n).astype(np.float64)
    undecided = np.ones(n, dtype=bool)
    kept = np.zeros(n, dtype=bool)
    a, b = pairs[:, 0], pairs[:, 1]
    while undecided.any():
        # a point wins when no undecided neighbour has a lower priority
        lowest_neighbour = np.full(n, np.inf)
        np.minimum.at(lowest_neighbour, a, priority[b])
        np.minimum.at(lowest_neighbour, b, priority[a])
        winners = undecided & (priority < lowest_neighbour)
        kept |= winners
        undecided &= ~winners
        undecided[b[winners[a]]] = False
        undecided[a[winners[b]]] = False
        live = undecided[a] & undecided[b]
        a, b = a[live], b[live]
    return np.flatnonzero(kept)


def clear_of(xy: np.ndarray, others: np.ndarray, distance: float | np.ndarray) -> np.ndarray:
    """Mask of the points of ``xy`` that are at least ``distance`` from every point of ``others``.

    The pairs closer than the reach are found by KD-tree pair search, one pass per power-of-two class of
    ``distance``, so that a few large clearings do not widen the search around every small obstacle.

    Args:
        xy: Points to test, shape (N, 2).
        others: Points to keep away from, shape (M, 2).
        distance: Minimum distance [m], scalar or one per point of ``others``.

    Returns:
        Boolean mask of shape (N,).
    """
    mask = np.ones(len(xy), dtype=bool)
    distance = np.broadcast_to(np.asarray(distance, dtype=np.float64), (len(others),))
    reaching = distance > 0
    others, distance = others[reaching], distance[reaching]
    if len(others) == 0 or len(xy) == 0:
        return mask
    points = cKDTree(xy)
    reach_class = np.ceil(np.log2(distance)).astype(np.int64)
    for level in np.unique(reach_class):
        members = np.flatnonzero(reach_class == level)
        reach = distance[members]
        near = points.sparse_distance_matrix(cKDTree(others[members]), float(reach.max()), output_type="ndarray")
        mask[near["i"][near["v"] < reach[near["j"]]]] = False
    return mask
