"""All (point, site) pairs within a radius, straight to CSR: a uniform-grid join in numba.

The plane is cut into square cells at least as wide as the radius, so every site within the
radius of a point lies in the point's cell or one of its 8 neighbours. Each cell gets the list of
the sites in those 9 cells, in column order; a point scans its cell's list twice (blocks of
points on a few threads; the numba kernels release the GIL): once to count its pairs, once to
write them into its own slice of the output, already sorted by site index. The distance of a pair
is ``hypot(px - sx, py - sy)`` (libm's hypot, as ``np.hypot``) and a pair is kept when that
distance is ``<= radius``, so the result is the same as testing every pair with numpy; the
squared distance only decides the pairs that are certainly farther than the radius (or, when
counting, certainly nearer).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Pairs whose squared distance is off radius**2 by more than this relative margin are decided
# without calling hypot (in or out); the rounding of dx*dx + dy*dy and of hypot is ~1e-16.
_MARGIN = 1e-9
# At most this many grid cells per site (plus a constant): a small radius on a wide region
# gets wider cells, which only costs more distance tests.
_CELLS_PER_SITE = 4
# Threads for the kernels (each takes blocks of at least _MIN_BLOCK points).
_MAX_THREADS = 8
_MIN_BLOCK = 2048


def radius_join(pxy: FloatArray, rows: IntArray, sxy: FloatArray, cols: IntArray,
                radius: float, n_rows: int) -> tuple[IntArray, IntArray, FloatArray]:
    """CSR arrays ``(indptr, indices, data)`` of the pairs within `radius`.

    Parameters
    ----------
    pxy, sxy : (n, 2) float64
        All point and all site coordinates.
    rows, cols : int64
        The points (rows of the result) and sites (columns) to pair; each without repeats.
    radius : float
        A pair ``(i, s)`` is kept when ``np.hypot(*(pxy[i] - sxy[s])) <= radius``.
    n_rows : int
        Rows of the result (``indptr`` has ``n_rows + 1`` entries); rows outside `rows` are empty.

    Returns
    -------
    indptr : int64, indices : int64 (site index, ascending within a row), data : float64 distance.
    """
    radius = float(radius)
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    cols = np.asarray(cols, dtype=np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    rows = rows[np.isfinite(pxy[rows]).all(axis=1)]
    cols = cols[np.isfinite(sxy[cols]).all(axis=1)]
    if len(rows) == 0 or len(cols) == 0 or not radius >= 0:
        return indptr, np.zeros(0, np.int64), np.zeros(0, np.float64)
    px, py = pxy[rows, 0].copy(), pxy[rows, 1].copy()
    sx, sy = sxy[cols, 0].copy(), sxy[cols, 1].copy()
    x0, y0 = min(px.min(), sx.min()), min(py.min(), sy.min())
    span = max(px.max(), sx.max()) - x0, max(py.max(), sy.max()) - y0
    scale = max(abs(x0), abs(y0), span[0] + abs(x0), span[1] + abs(y0), 1.0)
    # Wider than the radius by far more than any rounding in the cell arithmetic below.
    cell = radius * (1 + 1e-9) + scale * 1e-9 + 1e-9
    widest = max(span) + 1.0
    if not math.isfinite(cell) or cell > widest:
        cell = widest
    cap = _CELLS_PER_SITE * len(cols) + 1024
    while (span[0] // cell + 2) * (span[1] // cell + 2) > cap:
        cell *= 2.0
    pix, piy = _cell(px, x0, cell), _cell(py, y0, cell)
    six, siy = _cell(sx, x0, cell), _cell(sy, y0, cell)
    nx, ny = int(max(pix.max(), six.max())) + 1, int(max(piy.max(), siy.max())) + 1
    near_start, near_x, near_y, near_col = _neighbourhoods(six, siy, nx, ny, sx, sy, cols)
    point_cell = pix + nx * piy
    r2 = radius * radius
    args = (px, py, point_cell, near_start, near_x, near_y, radius, r2 * (1 + _MARGIN), r2 * (1 - _MARGIN))
    counts = np.zeros(len(rows), dtype=np.int64)
    _on_threads(lambda lo, hi: _count(lo, hi, *args, counts), len(rows))
    starts = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    indices = np.empty(starts[-1], dtype=np.int64)
    data = np.empty(starts[-1], dtype=np.float64)
    _on_threads(lambda lo, hi: _fill(lo, hi, *args, near_col, starts, indices, data), len(rows))
    per_row = np.zeros(n_rows, dtype=np.int64)
    per_row[rows] = counts
    np.cumsum(per_row, out=indptr[1:])
    return indptr, indices, data


def _on_threads(kernel: Callable[[int, int], None], n: int) -> None:
    """``kernel(lo, hi)`` over blocks covering ``range(n)``, on up to one thread per core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = min(cores, _MAX_THREADS, max(n // _MIN_BLOCK, 1))
    if threads == 1:
        kernel(0, n)
        return
    edges = np.linspace(0, n, 4 * threads + 1).astype(np.int64).tolist()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(kernel, lo, hi) for lo, hi in itertools.pairwise(edges)]:
            future.result()


def _cell(v: FloatArray, v0: float, cell: float) -> IntArray:
    return np.floor((v - v0) / cell).astype(np.int64)


def _neighbourhoods(six: IntArray, siy: IntArray, nx: int, ny: int, sx: FloatArray, sy: FloatArray,
                    cols: IntArray) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Per cell, the sites of its 3 x 3 block in column order: CSR-like ``start`` and arrays.

    9 entries per site at most (a few MB), so that a point's pairs come out sorted by column.
    """
    ox, oy = np.meshgrid([-1, 0, 1], [-1, 0, 1])
    cx = (six[None, :] + ox.reshape(-1, 1)).ravel()
    cy = (siy[None, :] + oy.reshape(-1, 1)).ravel()
    site = np.tile(np.arange(len(six)), 9)
    inside = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
    cell, site = (cx + nx * cy)[inside], site[inside]
    order = np.lexsort((cols[site], cell))
    cell, site = cell[order], site[order]
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell, minlength=nx * ny), out=start[1:])
    return start, sx[site], sy[site], cols[site]


@numba.njit(cache=True, nogil=True)
def _count(lo, hi, px, py, point_cell, near_start, near_x, near_y, radius, skip_d2, take_d2,
           counts):  # pragma: no cover
    for p in range(lo, hi):
        c = point_cell[p]
        n = 0
        for k in range(near_start[c], near_start[c + 1]):
            dx = px[p] - near_x[k]
            dy = py[p] - near_y[k]
            d2 = dx * dx + dy * dy
            if d2 < take_d2 or (d2 <= skip_d2 and math.hypot(dx, dy) <= radius):
                n += 1
        counts[p] = n


@numba.njit(cache=True, nogil=True)
def _fill(lo, hi, px, py, point_cell, near_start, near_x, near_y, radius, skip_d2, take_d2,
          near_col, starts, indices, data):  # pragma: no cover
    for p in range(lo, hi):
        c = point_cell[p]
        n = starts[p]
        for k in range(near_start[c], near_start[c + 1]):
            dx = px[p] - near_x[k]
            dy = py[p] - near_y[k]
            if dx * dx + dy * dy <= skip_d2:
                d = math.hypot(dx, dy)
                if d <= radius:
                    indices[n] = near_col[k]
                    data[n] = d
                    n += 1
