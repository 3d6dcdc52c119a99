"""Swain's 55 nodes and the São José dos Campos (Lorena) instances, with reference tables.

Both are planar points that are demand and candidate site at once; coverage is Euclidean
distance <= S (inclusive). The reference values are those of ``shared/benchmarks/README.md``
sections 4 and 5 (computed there with an exact MILP; SJC has no published table).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Points:
    """Weighted planar points, each a demand unit and a candidate site."""

    name: str
    xy: FloatArray
    weight: FloatArray


def read_swain(path: Path) -> Points:
    """swain.txt: ``55`` then ``id x y weight`` lines."""
    tok = path.read_text(encoding="utf-8").split()
    n = int(tok[0])
    body = np.array(tok[1:1 + 4 * n], dtype=np.float64).reshape(n, 4)
    return Points("swain55", body[:, 1:3].copy(), body[:, 3].copy())


def read_sjc(folder: Path, n: int) -> Points:
    """SJC{n}.txt (``n`` then ``x y`` lines) and demand-SJC{n}.dat (one demand a line)."""
    tok = (folder / f"SJC{n}.txt").read_text(encoding="utf-8").split()
    xy = np.array(tok[1:1 + 2 * int(tok[0])], dtype=np.float64).reshape(-1, 2)
    weight = np.array((folder / f"demand-SJC{n}.dat").read_text(encoding="utf-8").split(), dtype=np.float64)
    return Points(f"SJC{n}", xy, weight[:len(xy)])


SWAIN_LSCP = {5: 30, 8: 13, 10: 9, 12: 7, 15: 5, 19: 3, 20: 3, 25: 2, 30: 1}
"""S -> least number of sites covering all 55 nodes."""

SWAIN_MCLP = {
    5: [303, 366, 405, 433, 452, 470, 485, 499, 512, 524],
    8: [398, 454, 499, 538, 564, 584, 598, 610, 620, 629],
    10: [425, 502, 548, 581, 609, 625, 633, 638, 640],
    12: [457, 533, 574, 610, 632, 638, 640],
    15: [515, 593, 625, 638, 640],
    19: [567, 629, 640],
    20: [573, 631, 640],
    25: [635, 640],
    30: [640],
}
"""S -> most covered population for p = 1, 2, ... (of 640)."""

SJC_LSCP = {(324, 800): 5, (324, 1200): 3, (402, 800): 6, (402, 1200): 3, (500, 800): 8, (500, 1200): 4,
            (708, 800): 11, (708, 1200): 6, (818, 800): 13, (818, 1200): 7}
"""(n, S) -> least number of sites covering every demand point."""

SJC_MCLP = {
    (324, 800): {1: 5461, 2: 8790, 4: 12106}, (324, 1200): {1: 9932, 2: 11555, 4: 12152},
    (402, 800): {1: 6555, 2: 11339, 4: 15658}, (402, 1200): {1: 10607, 2: 14832, 4: 15984},
    (500, 800): {1: 7944, 2: 12454, 4: 17794, 8: 19707}, (500, 1200): {1: 10726, 2: 18070, 4: 19707},
    (708, 800): {1: 8393, 2: 13306, 4: 20338, 8: 23684}, (708, 1200): {1: 11612, 2: 20376, 4: 23884},
    (818, 800): {1: 8393, 2: 13306, 4: 21428, 8: 27813, 10: 28838},
    (818, 1200): {1: 11612, 2: 20290, 4: 27029},
}
"""(n, S) -> {p: most covered demand}; p at or above the LSCP number is left out ("–")."""
