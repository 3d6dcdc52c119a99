"""Files: upload data layers (GeoJSON, GeoPackage, shapefiles, tables) that scenarios then name."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status

from api.deps import SettingsDep
from api.files import name_problem, save_upload
from api.routes.responses import errors
from api.schemas import UploadedFile, UploadPublic
from optimizer.errors import Problem, ScenarioError, raise_if

router = APIRouter(prefix="/files", tags=["files"], responses=errors(422))

MAX_FILES = 20


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UploadPublic, responses=errors(400, 413, 422),
             summary="Upload data files")
def upload_files(files: Annotated[list[UploadFile], File(description="One or more files (multipart field "
                                                         "`files`); a shapefile with its .shx/.dbf/.prj.")],
                 settings: SettingsDep) -> UploadPublic:
    """Store the files of one request together under ``files/<upload id>/``; a scenario then names each
    by the `path` returned, e.g. ``"demand": {"path": "files/<upload id>/demand.geojson"}``."""
    names = [upload.filename or "" for upload in files]
    problems = [Problem(f"files[{k}]", message) for k, name in enumerate(names) if (message := name_problem(name))]
    if len(files) > MAX_FILES:
        problems.append(Problem("files", f"{len(files)} files; at most {MAX_FILES} per upload"))
    if len(set(names)) != len(names):
        problems.append(Problem("files", "two files have the same name"))
    raise_if(problems, ScenarioError)
    upload_id = uuid.uuid4().hex
    folder = settings.files_dir / upload_id
    stored = []
    for upload, name in zip(files, names):
        size, digest = save_upload(folder=folder, name=name, source=upload.file)
        stored.append(UploadedFile(name=name, path=f"files/{upload_id}/{name}", bytes=size, sha256=digest))
    return UploadPublic(id=upload_id, files=stored)
