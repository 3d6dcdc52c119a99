"""Connected components of a sparse matrix's rows and columns, where a row meets every column it
holds: which parts of a model are independent of each other.

On large models: union-find over the nonzeros, one pass (numba). SciPy's
`connected_components` needs the bipartite graph as one square matrix, [[0, A], [A^T, 0]],
which holds every nonzero twice: on large models building it is a noticeable share of every
solve, and it is needed twice (exact decomposition and the dual ascent's parts). On models below
`Tuning.components_compiled_nnz` SciPy's is used: there the copy costs milliseconds, while
compiling the union-find on a fresh install costs seconds of the first solve.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from optimizer.tuning import TUNING

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
    compiled = A.nnz >= TUNING.components_compiled_nnz
    root = _roots(indptr, indices, rows, cols) if compiled else _roots_scipy(A, rows, cols)
    first = _first_marked(indptr, indices, rows, cols)
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


def _roots_scipy(A: sp.csr_array, rows: BoolArray, cols: BoolArray) -> IntArray:
    """`_roots` by SciPy's connected components of the bipartite graph of the marked rows and
    columns (unmarked columns are their own roots)."""
    sub = sp.csr_array(A[np.flatnonzero(rows)][:, np.flatnonzero(cols)]).tocoo()
    n_rows, n = sub.shape[0], sub.shape[0] + sub.shape[1]
    # nodes: the marked rows, then the marked columns; one edge per nonzero (undirected)
    graph = sp.csr_array((np.ones(sub.nnz), (sub.row, sub.col + n_rows)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    col_label = label[n_rows:]
    marked = np.flatnonzero(cols)
    smallest = np.full(int(label.max(initial=-1)) + 1, len(cols), dtype=np.int64)
    np.minimum.at(smallest, col_label, marked)
    root = np.arange(len(cols), dtype=np.int64)
    root[marked] = smallest[col_label]
    return root


def _first_marked(indptr: IntArray, indices: IntArray, rows: BoolArray, cols: BoolArray) -> IntArray:
    """Each marked row's first marked column (-1: none)."""
    row_of = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    hit = rows[row_of] & cols[indices]
    first = np.full(len(indptr) - 1, -1, dtype=np.int64)
    # entries are in row order, so the first hit of each row is where its row first appears
    hit_rows, at = np.unique(row_of[hit], return_index=True)
    first[hit_rows] = indices[hit][at]
    return first


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
