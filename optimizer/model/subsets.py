"""Which rows of a 0/1 sparse matrix contain which others: the pairs (a, b), a != b, with
row a's columns a subset of row b's (a non-empty).

Row b can only contain row a if it holds a's rarest column, so each row is compared only with
the rows through that column, by a merge of the two sorted index lists: work about
sum over rows of |rarest column| x row length, where overlap counts B @ B.T cost
sum over rows of the column counts of every column (much more on dense reach).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]


def subset_pairs(B: sp.csr_array) -> tuple[IntArray, IntArray]:
    """(a, b): row a's column set lies inside row b's, a != b, row a not empty."""
    B = sp.csr_array(B, copy=True)
    B.sort_indices()
    Bt = sp.csr_array(B.T)
    Bt.sort_indices()
    ptr, idx = B.indptr.astype(np.int64), B.indices.astype(np.int64)
    t_ptr, t_idx = Bt.indptr.astype(np.int64), Bt.indices.astype(np.int64)
    count = _pairs(ptr, idx, t_ptr, t_idx, np.zeros(0, np.int64), np.zeros(0, np.int64), False)
    a, b = np.empty(count, np.int64), np.empty(count, np.int64)
    _pairs(ptr, idx, t_ptr, t_idx, a, b, True)
    return a, b


@numba.njit(cache=True)
def _pairs(ptr, idx, t_ptr, t_idx, out_a, out_b, write):
    n = 0
    col_count = np.diff(t_ptr)
    for a in range(len(ptr) - 1):
        if ptr[a + 1] == ptr[a]:
            continue
        rare = idx[ptr[a]]
        for p in range(ptr[a], ptr[a + 1]):
            if col_count[idx[p]] < col_count[rare]:
                rare = idx[p]
        for q in range(t_ptr[rare], t_ptr[rare + 1]):
            b = t_idx[q]
            longer = ptr[b + 1] - ptr[b] >= ptr[a + 1] - ptr[a]
            if b != a and longer and _inside(idx, ptr[a], ptr[a + 1], ptr[b], ptr[b + 1]):
                if write:
                    out_a[n] = a
                    out_b[n] = b
                n += 1
    return n


@numba.njit(cache=True)
def _inside(idx, a0, a1, b0, b1):
    """Sorted idx[a0:a1] is a subset of sorted idx[b0:b1]."""
    j = b0
    for i in range(a0, a1):
        while j < b1 and idx[j] < idx[i]:
            j += 1
        if j == b1 or idx[j] != idx[i]:
            return False
        j += 1
    return True
