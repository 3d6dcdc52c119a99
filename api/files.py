"""Uploaded data files, and confining a scenario's paths to them.

An upload is a folder ``files/<upload id>/`` holding the files of one request (a shapefile
travels with its sidecar files). A scenario submitted to the service names them relative to
the data directory (``"path": "files/<upload id>/demand.geojson"``). Only data formats the
engine reads are accepted (`optimizer.inputs.drivers.FORMATS`), and a named file's content must be
what its name says: a GDAL virtual format (``.vrt``) or pipeline could name any file on the server.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel

from optimizer.errors import GeodataError, Problem
from optimizer.inputs.drivers import FORMATS, REFUSED, input_format, readers_for, sniff
from optimizer.scenario.format import Scenario

DATA_SUFFIXES = tuple(FORMATS)
SIDECAR_SUFFIXES = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_CHUNK = 1 << 20


def name_problem(name: str) -> str | None:
    """Why an uploaded file name is refused, or None when it is fine."""
    if not _NAME.match(name) or ".." in name:
        return (f"'{name[:80]}' is not a plain file name: use letters, digits, '.', '_' and '-' (no folders, "
                "at most 120 characters)")
    if name.lower().endswith(tuple(REFUSED)) or not name.lower().endswith(DATA_SUFFIXES + SIDECAR_SUFFIXES):
        return (f"'{name}' is not a data file the optimizer reads; give one of "
                f"{', '.join(DATA_SUFFIXES + SIDECAR_SUFFIXES)}")
    return None


def save_upload(*, folder: Path, name: str, source: BinaryIO) -> tuple[int, str]:
    """Copy `source` to ``folder/name`` (written whole, then renamed); returns (bytes, sha256)."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.part"
    digest, size = hashlib.sha256(), 0
    with partial.open("wb") as handle:
        while block := source.read(_CHUNK):
            digest.update(block)
            size += len(block)
            handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(folder / name)
    return size, digest.hexdigest()


def path_problems(scenario: Scenario, *, data_dir: Path) -> list[Problem]:
    """Every path of `scenario` that leaves the data directory, or names a missing or unreadable file.

    Every field called ``path`` anywhere in the scenario (demand, sites, network, distances,
    boundaries, and any added later) must name an upload under ``files/``; a ``cache_dir`` must
    stay in the data directory. Paths are relative to the data directory.
    """
    data_dir = data_dir.resolve()
    problems = []
    for location, field, text in _path_fields(scenario):
        if field == "cache_dir":
            message = _outside(text, data_dir, data_dir, "a folder inside the data directory (or null)")
        else:
            message = _outside(text, data_dir, data_dir / "files", "an uploaded file (files/<upload id>/<name>)")
            message = message or _input_file(text, data_dir, location)
        if message:
            problems.append(Problem(location, message))
    return problems


def _path_fields(model: BaseModel, where: str = "") -> list[tuple[str, str, str]]:
    """(JSON path, field name, value) of every ``path`` and ``cache_dir`` string in `model`, nested models too."""
    found = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        location = f"{where}.{name}" if where else name
        if name in ("path", "cache_dir") and isinstance(value, str):
            found.append((location, name, value))
        elif isinstance(value, BaseModel):
            found += _path_fields(value, location)
    return found


def _outside(text: str, data_dir: Path, root: Path, what: str) -> str | None:
    """Why `text` does not resolve inside `root`, or None."""
    pure = PurePosixPath(text.replace("\\", "/"))
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", text) or "\x00" in text:
        return f"'{text[:120]}' is an absolute path; give {what}, relative to the data directory"
    resolved = (data_dir / pure).resolve()
    if not resolved.is_relative_to(root.resolve()):
        return f"'{text[:120]}' leads outside the service's data area; give {what}"
    return None


def _input_file(text: str, data_dir: Path, location: str) -> str | None:
    """Why the uploaded file `text` cannot be read as the field at `location` reads it, or None:
    its name, or its content (`optimizer.inputs.drivers.sniff`), is not a format the field reads."""
    try:
        fmt = input_format(text, location, readers=readers_for(location))
        path = (data_dir / text).resolve()
        if not path.is_file():
            return f"'{text[:120]}' was not uploaded; upload it with POST /v1/files and use the `path` it returns"
        sniff(path, fmt, location)
    except GeodataError as exc:
        return "; ".join(problem.message for problem in exc.problems)
    return None


def uploads_named(scenario: Scenario, *, data_dir: Path) -> list[tuple[str, str, str]]:
    """(JSON path, path, upload id) of every scenario path that resolves into an upload folder ``files/<id>/``.

    The service checks each upload id against the uploads of the key that submits the scenario.
    """
    files_dir = (data_dir / "files").resolve()
    found = []
    for location, field, text in _path_fields(scenario):
        if field != "path" or "\x00" in text:
            continue
        resolved = (data_dir / PurePosixPath(text.replace("\\", "/"))).resolve()
        if resolved.is_relative_to(files_dir) and resolved != files_dir:
            found.append((location, text, resolved.relative_to(files_dir).parts[0]))
    return found

