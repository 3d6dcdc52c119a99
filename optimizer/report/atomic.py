"""Output files written whole or not at all: a failed write never loses the earlier file.

Every artefact (plan.json, plan.gpkg, the exports, the frontier files) is written under a
temporary folder beside it (``.plan.gpkg.<pid>.<random>.tmp/plan.gpkg``, so a writer that needs
a path sees the right name and extension, and its side files stay inside), flushed to the disk
(fsync), then renamed over the old file (`os.replace`, atomic within one file system). Any
failure removes the temporary folder and leaves the old file as it was.

Inside `replaced_together` the renames wait until every file of the block is written: a run's
files replace the earlier run's as a set, or none does.

A failed write raises `WriteError` naming the file; no room (ENOSPC, EFBIG, EDQUOT, or a GDAL or
SQLite write failing on a full disk or at the process's file-size limit, which they report
without an errno) raises `DiskFullError`.

Flow: used by report (plan.json), export (every export file) and sweep (frontier and levels).
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path

from optimizer.errors import DiskFullError, WriteError

if sys.platform != "win32":
    import resource

NO_ROOM = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
FREE_MARGIN_BYTES = 1 << 20    # a GDAL/SQLite failure with less free than this: the disk is full
LIMIT_MARGIN_BYTES = 1 << 16   # ... or with its file this close to RLIMIT_FSIZE (SQLite pages, GDAL buffers)

_STAGED: ContextVar[list[tuple[Path, Path]] | None] = ContextVar("_STAGED", default=None)


def write_text(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` whole or not at all; return `path`. Raises `WriteError`."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all; return `path`. Raises `WriteError`."""
    with written_at(path) as tmp, tmp.open("wb") as handle:
        handle.write(data)
    return path


@contextmanager
def written_at(path: Path) -> Iterator[Path]:
    """A temporary path to build `path` at (same name, same folder); replaces `path` on success.

    For writers that need a path (GDAL, SQLite, matplotlib)::

        with written_at(out_dir / "plan.gpkg") as tmp:
            pyogrio.write_dataframe(frame, tmp, driver="GPKG")

    On leaving the block the file is synced and renamed over `path` (at the end of the
    enclosing `replaced_together`, if any). On an error the temporary folder is removed and
    `path` is untouched; the error becomes `DiskFullError` or `WriteError` when it is one.
    """
    try:
        folder = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"))
    except OSError as exc:
        raise _write_error(path, exc) from exc
    tmp = folder / path.name
    try:
        yield tmp
        _sync(tmp)
    except BaseException as exc:   # cleanup, then re-raise: only write failures are converted
        error = _classify(path, exc, folder)   # before removing: it measures what was written
        shutil.rmtree(folder, ignore_errors=True)
        if error is None:
            raise
        raise error from exc
    staged = _STAGED.get()
    if staged is None:
        _replace(tmp, path)
    else:
        staged.append((tmp, path))


@contextmanager
def replaced_together() -> Iterator[None]:
    """Files written in this block replace their old versions together when it ends without error.

    An error anywhere in the block removes every temporary file and leaves all old files as
    they were. Nested blocks join the outermost one.
    """
    if _STAGED.get() is not None:
        yield
        return
    staged: list[tuple[Path, Path]] = []
    token = _STAGED.set(staged)
    try:
        yield
    except BaseException:
        for tmp, _ in staged:
            shutil.rmtree(tmp.parent, ignore_errors=True)
        raise
    finally:
        _STAGED.reset(token)
    for k, (tmp, path) in enumerate(staged):
        try:
            _replace(tmp, path)
        except WriteError:
            for rest, _ in staged[k + 1:]:
                shutil.rmtree(rest.parent, ignore_errors=True)
            raise


def _sync(tmp: Path) -> None:
    """Flush the written file to the disk (a rename of unsynced data can leave an empty file after a crash)."""
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())


def _replace(tmp: Path, path: Path) -> None:
    """Rename `tmp` over `path`, remove its temporary folder, sync the folder's entry."""
    try:
        os.replace(tmp, path)
    except OSError as exc:
        shutil.rmtree(tmp.parent, ignore_errors=True)
        raise _write_error(path, exc) from exc
    shutil.rmtree(tmp.parent, ignore_errors=True)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; some file systems refuse to sync a folder, which loses nothing now."""
    if sys.platform == "win32":
        return
    with suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _classify(path: Path, exc: BaseException, folder: Path) -> WriteError | None:
    """The `WriteError` that `exc` is, or None when it is not a write failure (re-raised as is)."""
    if isinstance(exc, OSError):
        return _write_error(path, exc)
    if isinstance(exc, Exception) and _out_of_room(folder):
        return _no_room(path)
    return None


def _write_error(path: Path, exc: OSError) -> WriteError:
    if exc.errno in NO_ROOM:
        return _no_room(path)
    return WriteError(f"cannot write {path} ({exc.strerror or exc}): make the folder writable or choose "
                      "another output folder (--out); the previous files are intact", str(path))


def _no_room(path: Path) -> DiskFullError:
    return DiskFullError(f"no space left on the disk writing {path}: free space or choose another output "
                         "folder (--out); the previous files are intact", str(path))


def _out_of_room(folder: Path) -> bool:
    """Whether a write that failed without an errno (GDAL, SQLite) ran out of room.

    True when the disk has less than `FREE_MARGIN_BYTES` free, or the largest file written
    came within `LIMIT_MARGIN_BYTES` of the process's file-size limit (RLIMIT_FSIZE).
    """
    if sys.platform == "win32":
        return False
    try:
        stats = os.statvfs(folder)
        largest = max((p.stat().st_size for p in folder.rglob("*") if p.is_file()), default=0)
    except OSError:
        return False
    if stats.f_bavail * stats.f_frsize < FREE_MARGIN_BYTES:
        return True
    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return limit != resource.RLIM_INFINITY and largest + LIMIT_MARGIN_BYTES >= limit
