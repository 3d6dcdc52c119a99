"""Connected components of a sparse matrix's rows and columns, where a row meets every column it
holds: which parts of a model are independent of each other.

Union-find over the nonzeros, one pass (numba). SciPy's `connected_components` needs the
bipartite graph as one square matrix, [[0, A], [A^T, 0]], which holds every nonzero twice:
on large models building it is a noticeable share of every solve, and it is needed twice (exact
decomposition and the dual ascent's parts).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def components(A: sp.csr_array, rows: BoolArray | None = None,
               cols: BoolArray | None = None) -> tuple[IntArray, IntArray]:
    """(label of each row, label of each column): rows and columns that share a component share a
    label, 0..k-1. Only the rows and columns marked in `rows` / `cols` (all when None) take part;
    the others are labelled -1. A marked row or column that meets nothing is a component alone."""
    n_rows, n_cols = A.shape
    rows = np.ones(n_rows, dtype=bool) if rows is None else rows
    cols = np.ones(n_cols, dtype=bool) if cols is None else cols
    indptr, indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    root, first = _roots(indptr, indices, rows, cols), _first_marked(indptr, indices, rows, cols)
    _, col_label = np.unique(root[cols], return_inverse=True)
    n_col_parts = int(col_label.max()) + 1 if len(col_label) else 0
    col_out = np.full(n_cols, -1, dtype=np.int64)
    col_out[cols] = col_label
    # a row joins its first marked column's component; a row with none is a component alone
    row_out = np.full(n_rows, -1, dtype=np.int64)
    joined, lone = rows & (first >= 0), rows & (first < 0)
    row_out[joined] = col_out[first[joined]]
    row_out[lone] = n_col_parts + np.arange(int(lone.sum()))
    return row_out, col_out


@numba.njit(cache=True)
def _find(parent: IntArray, j: int) -> int:
    while parent[j] != j:
        parent[j] = parent[parent[j]]   # path halving
        j = parent[j]
    return j


@numba.njit(cache=True)
def _roots(indptr: IntArray, indices: IntArray, rows: BoolArray, cols: BoolArray) -> IntArray:
    """Each column's representative (the smallest column of its component)."""
    parent = np.arange(len(cols))
    for r in range(len(indptr) - 1):
        if not rows[r]:
            continue
        a = -1
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            if not cols[j]:
                continue
            b = _find(parent, j)
            if a < 0:
                a = b
            elif a != b:
                if a < b:
                    parent[b] = a
                else:
                    parent[a] = b
                    a = b
    for j in range(len(parent)):
        parent[j] = _find(parent, j)
    return parent


@numba.njit(cache=True)
def _first_marked(indptr: IntArray, indices: IntArray, rows: BoolArray, cols: BoolArray) -> IntArray:
    """Each marked row's first marked column (-1: none)."""
    first = np.full(len(indptr) - 1, -1, dtype=np.int64)
    for r in range(len(indptr) - 1):
        if rows[r]:
            for k in range(indptr[r], indptr[r + 1]):
                if cols[indices[k]]:
                    first[r] = indices[k]
                    break
    return first
