"""Readers for the OR-Library files in ``shared/benchmarks`` and their optimum tables.

Each reader returns plain arrays; `bench.instances` turns them into engine tables. The traps
that ``shared/benchmarks/README.md`` lists are handled here: pmed's duplicate edges (the last
cost read wins), cap's c_ij being the total cost of serving customer j from i, and the word
``capacity`` in capa/b/c.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def benchmarks_dir() -> Path:
    """The benchmark data folder: ``$ELDERCARE_BENCHMARKS``, else ``../shared/benchmarks``
    beside the repository (``/work/shared/benchmarks`` here, ``../shared/benchmarks`` in CI)."""
    override = os.environ.get("ELDERCARE_BENCHMARKS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


def _tokens(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split()


@dataclass(frozen=True)
class PMedian:
    """A p-median instance: all-pairs shortest-path distances between the n vertices."""

    name: str
    p: int
    dist: FloatArray


def read_pmed(path: Path) -> PMedian:
    """pmedN.txt: ``n m p`` then m edges ``i j c``; the last cost of a duplicated pair wins,
    then all-pairs shortest paths (OR-Library's rule, README section 1)."""
    tok = np.array(_tokens(path), dtype=np.int64)
    n, m, p = (int(v) for v in tok[:3])
    a, b, c = last_wins_edges(tok[3:3 + 3 * m].reshape(m, 3), n)
    graph = sp.csr_array((np.concatenate([c, c]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                         shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)
    return PMedian(path.stem, p, dist)


def last_wins_edges(edges: IntArray, n: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Undirected edges ``(i, j, c)`` (1-based) to 0-based ``(a, b, cost)`` with a < b, one per
    pair: the cost on the pair's last line wins."""
    a, b = np.minimum(edges[:, 0], edges[:, 1]) - 1, np.maximum(edges[:, 0], edges[:, 1]) - 1
    # np.unique on the reversed list keeps each pair's first index there = its last one here.
    _, last = np.unique((a * n + b)[::-1], return_index=True)
    keep = len(edges) - 1 - last
    return a[keep], b[keep], edges[keep, 2].astype(np.float64)


@dataclass(frozen=True)
class Warehouse:
    """A warehouse-location instance (m sites, n customers).

    ``cost[i, j]`` is the total cost of serving all of customer j from site i.
    ``capacity`` is NaN where the file has the word ``capacity`` (capa/b/c).
    """

    name: str
    capacity: FloatArray
    fixed: FloatArray
    demand: FloatArray
    cost: FloatArray


def read_cap(path: Path) -> Warehouse:
    """capXX.txt / capa-c.txt as a whitespace token stream (line breaks carry no meaning)."""
    tok = _tokens(path)
    m, n = int(tok[0]), int(tok[1])
    head = tok[2:2 + 2 * m]
    capacity = np.array([np.nan if v == "capacity" else float(v) for v in head[0::2]])
    fixed = np.array(head[1::2], dtype=np.float64)
    body = np.array(tok[2 + 2 * m:2 + 2 * m + n * (m + 1)], dtype=np.float64).reshape(n, m + 1)
    return Warehouse(path.stem, capacity, fixed, body[:, 0].copy(), body[:, 1:].T.copy())


@dataclass(frozen=True)
class SetCover:
    """A weighted set-covering instance: ``rows[k]`` is covered by column ``cols[k]``."""

    name: str
    cost: FloatArray
    rows: IntArray
    cols: IntArray


def read_scp(path: Path) -> SetCover:
    """scpXX.txt: ``m n``, n column costs, then per row ``k j_1 .. j_k`` (1-based columns)."""
    tok = np.array(_tokens(path), dtype=np.int64)
    m, n = int(tok[0]), int(tok[1])
    cost = tok[2:2 + n].astype(np.float64)
    rows, cols, at = [], [], 2 + n
    for r in range(m):
        k = int(tok[at])
        cols.append(tok[at + 1:at + 1 + k] - 1)
        rows.append(np.full(k, r, dtype=np.int64))
        at += 1 + k
    return SetCover(path.stem, cost, np.concatenate(rows), np.concatenate(cols))


def read_pmedopt(path: Path) -> dict[str, float]:
    """pmedopt.txt: ``pmedN value`` lines after a header."""
    found = re.findall(r"^(pmed\d+)\s+([\d.]+)", path.read_text(encoding="utf-8"), flags=re.M)
    return {name: float(value) for name, value in found}


def read_uncapopt(path: Path) -> dict[str, float]:
    """uncapopt.txt: ``capXX.txt value`` lines."""
    found = re.findall(r"^(cap\w+)\.txt\s+([\d.]+)", path.read_text(encoding="utf-8"), flags=re.M)
    return {name: float(value) for name, value in found}


def read_capopt(path: Path) -> dict[tuple[str, float | None], float]:
    """capopt.txt: ``(instance, capacity) -> optimum``; capacity None for the small sets, and
    the value in parentheses for capa/b/c (continuation lines name no instance)."""
    table: dict[tuple[str, float | None], float] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        hit = re.match(r"^(cap\w+)?\s+([\d.]+)(?:\s+\(capacity (\d+)\))?\s*$", line)
        if hit is None:
            continue
        current = hit.group(1) or current
        cap = float(hit.group(3)) if hit.group(3) else None
        table[(current, cap)] = float(hit.group(2))
    return table


SCP_OPTIMA = {"scp41": 429.0, "scp51": 253.0, "scpa1": 253.0, "scpb1": 69.0}
"""Beasley (1987) optima of the stored set-covering instances (README section 3)."""
