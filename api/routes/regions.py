"""Shipped regions: the demonstration scenarios that come with the optimizer, ready to copy and run.

A region is a scenario file under ``scenarios/`` (the county of 平阴县, Haidian, the example) with
the layer files it names. Copying one makes an ordinary upload of the caller's own (its layers
under ``files/<upload id>/``, counted against the key's quota) and returns the scenario with its
paths pointing there, so that it is validated, submitted and deleted like any uploaded scenario.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi import Path as PathParam

from api import retention, store
from api.deps import CallerDep, ConnDep, SettingsDep
from api.files import save_upload
from api.jobs import check_storage
from api.keys import Caller
from api.routes.files import upload_public
from api.routes.responses import errors
from api.schemas import RegionCopy, RegionList, RegionPublic, UploadedFile
from api.settings import Settings
from api.store import UploadRecord
from optimizer.scenario.presets import PRESET_DIR

router = APIRouter(prefix="/regions", tags=["regions"], responses=errors(422))

SCENARIOS_DIR = PRESET_DIR.parent
SHIPPED_ROOT = SCENARIOS_DIR.parent
LAYER_SECTIONS = ("demand", "sites", "network", "boundaries", "distances")


@dataclass(frozen=True)
class Region:
    """A shipped scenario and the layer files it names (absolute, inside the repository)."""

    id: str
    path: Path
    document: dict[str, Any]
    files: dict[str, Path]   # section -> file


def _region(path: Path, region_id: str) -> Region | None:
    """The region of scenario file `path`, or None when it is not a scenario or names a file outside."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != 1:
        return None
    files = {}
    for section in LAYER_SECTIONS:
        spec = document.get(section)
        if isinstance(spec, dict) and isinstance(spec.get("path"), str):
            file = (path.parent / spec["path"]).resolve()
            if not file.is_file() or not file.is_relative_to(SHIPPED_ROOT):
                return None
            files[section] = file
    return Region(region_id, path, document, files)


def shipped_regions() -> dict[str, Region]:
    """Every shipped scenario by id: ``scenarios/<id>.json`` and ``scenarios/<id>/scenario.json``."""
    candidates = [(p.stem, p) for p in sorted(SCENARIOS_DIR.glob("*.json")) if p.name != "schema.json"]
    candidates += [(p.parent.name, p) for p in sorted(SCENARIOS_DIR.glob("*/scenario.json"))]
    found = {}
    for region_id, path in candidates:
        region = _region(path, region_id)
        if region is not None:
            found[region_id] = region
    return found


def _public(region: Region) -> RegionPublic:
    document = region.document
    return RegionPublic(id=region.id, name=str(document.get("name") or region.id),
                        description=str(document.get("description") or ""),
                        years=document.get("years"), files=sorted({f.name for f in region.files.values()}),
                        bytes=sum(f.stat().st_size for f in set(region.files.values())))


@router.get("", response_model=RegionList, summary="Shipped regions")
def list_regions() -> RegionList:
    """The demonstration scenarios shipped with the optimizer; copy one to run it (POST .../{id}/copy)."""
    return RegionList(regions=[_public(region) for region in shipped_regions().values()])


RegionId = Annotated[str, PathParam(max_length=100, examples=["pingyin-2024-2026"],
                                    description="A region id from GET /v1/regions.")]


@router.post("/{region_id}/copy", status_code=status.HTTP_201_CREATED, response_model=RegionCopy,
             responses=errors(404, 507), summary="Copy a shipped region into an upload")
def copy_region(region_id: RegionId, settings: SettingsDep, conn: ConnDep, caller: CallerDep,
                response: Response) -> RegionCopy:
    """Copy the region's layer files into an upload of this key and return the scenario naming them
    (``files/<upload id>/<name>``), ready to change and submit. An upload of this key holding the same
    files already (an earlier copy) is used again. 507 beyond the key's storage quota."""
    region = shipped_regions().get(region_id)
    if region is None:
        known = ", ".join(shipped_regions())
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no region '{region_id[:100]}'; regions: {known}")
    stored_as = {file: _plain_name(file) for file in sorted(set(region.files.values()))}
    record = _earlier_copy(conn, caller.id, stored_as) or _copy(conn, settings, caller, stored_as)
    scenario = json.loads(json.dumps(region.document))
    for section, file in region.files.items():
        scenario[section]["path"] = f"files/{record.id}/{stored_as[file]}"
    response.headers["Location"] = f"/v1/files/{record.id}"
    return RegionCopy(region=region.id, upload=upload_public(record), scenario=scenario)


def _earlier_copy(conn: sqlite3.Connection, owner: str, stored_as: dict[Path, str]) -> UploadRecord | None:
    """An upload of `owner` holding exactly these files, byte for byte: choosing a region twice copies it once."""
    wanted = {(name, _sha256(file)) for file, name in stored_as.items()}
    for record in store.list_uploads(conn, owner=owner, limit=1000):
        if {(f["name"], f["sha256"]) for f in record.files} == wanted:
            return record
    return None


def _copy(conn: sqlite3.Connection, settings: Settings, caller: Caller, stored_as: dict[Path, str]) -> UploadRecord:
    """Copy the files into a new upload of `caller` (nothing is kept when a copy fails); 507 beyond its quota."""
    check_storage(conn, caller=caller, adding=sum(file.stat().st_size for file in stored_as))
    upload_id = uuid.uuid4().hex
    folder = settings.files_dir / upload_id
    try:
        stored = []
        for file, name in stored_as.items():
            with file.open("rb") as source:
                size, digest = save_upload(folder=folder, name=name, source=source)
            stored.append(UploadedFile(name=name, path=f"files/{upload_id}/{name}", bytes=size, sha256=digest))
        return store.add_upload(conn, upload_id=upload_id, owner=caller.id, now=time.time(),
                                files=[file.model_dump() for file in stored])
    except BaseException:
        retention.remove_folder(folder)
        raise


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def _plain_name(file: Path) -> str:
    """The file's name as an upload accepts it (letters, digits, '.', '_', '-')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", file.name)
