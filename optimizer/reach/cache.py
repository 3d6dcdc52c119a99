"""On-disk cache of walking reach, keyed by a hash of everything the reach depends on.

One ``<sha256>.npz`` file per reach in the cache folder (``network.cache_dir``, by default
``.eldercare-cache/`` next to the scenario). The key covers the network file's bytes (and a
shapefile's sidecar files), the layer, the CRS, every point's coordinates, which units each
type serves and which sites may host it, every limit and the walking speed, and
`CACHE_VERSION`. A file is written whole or not at all (temporary file, then rename); a
missing, stale or unreadable file is simply recomputed, so the folder is safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: Bump when the meaning of cached arrays changes (filter, snapping, search).
CACHE_VERSION = 1
_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes; a shapefile includes its sidecar files."""
    digest = hashlib.sha256()
    paths = [path]
    if path.suffix.lower() == ".shp":
        paths += [p for p in (path.with_suffix(s) for s in _SIDECARS) if p.exists()]
    for part in paths:
        with part.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def reach_key(settings: dict[str, Any], arrays: list[npt.NDArray[Any]]) -> str:
    """Hash of JSON-able `settings` and the bytes, dtype and shape of each array."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": CACHE_VERSION, **settings}, sort_keys=True).encode())
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def load(cache_dir: Path, key: str) -> dict[str, npt.NDArray[Any]] | None:
    """The cached arrays for `key`, or None when absent or unreadable."""
    path = cache_dir / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None


def store(cache_dir: Path, key: str, arrays: dict[str, npt.NDArray[Any]]) -> str:
    """Write `arrays` under `key`; returns ``"stored"`` or why it could not be written."""
    tmp: str | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]  # mypy matches **arrays against allow_pickle: bool
        os.replace(tmp, cache_dir / f"{key}.npz")
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return f"not written ({exc.strerror or exc})"
    return "stored"
