"""Files: upload data layers (GeoJSON, GeoPackage, shapefiles, tables) that scenarios then name; list, delete."""

from __future__ import annotations

import time
import uuid
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Query, Response, UploadFile, status

from api import retention, store
from api.deps import CallerDep, ConnDep, SettingsDep, UploadDep
from api.files import name_problem, save_upload
from api.jobs import check_storage
from api.routes.links import LOCATION, UPLOAD_LINKS
from api.routes.responses import errors
from api.schemas import UploadedFile, UploadList, UploadPublic, timestamp
from api.store import UploadRecord
from optimizer.errors import Problem, ScenarioError, raise_if

router = APIRouter(prefix="/files", tags=["files"], responses=errors(422))

MAX_FILES = 20


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UploadPublic,
             responses={201: {"links": UPLOAD_LINKS, "headers": LOCATION}, **errors(400, 413, 422, 507)},
             summary="Upload data files")
def upload_files(files: Annotated[list[UploadFile], File(description="One or more files (multipart field "
                                                         "`files`); a shapefile with its .shx/.dbf/.prj.")],
                 settings: SettingsDep, conn: ConnDep, caller: CallerDep, response: Response) -> UploadPublic:
    """Store the files of one request together under ``files/<upload id>/``; a scenario submitted with the
    same key then names each by the `path` returned, e.g. ``"demand": {"path": "files/<upload id>/demand.geojson"}``.
    507 when the files would exceed the key's storage quota (nothing is kept then)."""
    names = [upload.filename or "" for upload in files]
    problems = [Problem(f"files[{k}]", message) for k, name in enumerate(names) if (message := name_problem(name))]
    if len(files) > MAX_FILES:
        problems.append(Problem("files", f"{len(files)} files; at most {MAX_FILES} per upload"))
    if len(set(names)) != len(names):
        problems.append(Problem("files", "two files have the same name"))
    raise_if(problems, ScenarioError)
    check_storage(conn, caller=caller)
    upload_id = uuid.uuid4().hex
    folder = settings.files_dir / upload_id
    recorded = False
    try:
        stored = []
        for upload, name in zip(files, names):
            size, digest = save_upload(folder=folder, name=name, source=upload.file)
            stored.append(UploadedFile(name=name, path=f"files/{upload_id}/{name}", bytes=size, sha256=digest))
        check_storage(conn, caller=caller, adding=sum(file.bytes for file in stored))
        record = store.add_upload(conn, upload_id=upload_id, owner=caller.id, now=time.time(),
                                  files=[file.model_dump() for file in stored])
        recorded = True
    finally:
        if not recorded:   # refused, or failed while writing: keep nothing of it
            retention.remove_folder(folder)
    response.headers["Location"] = f"/v1/files/{upload_id}"
    return upload_public(record)


@router.get("", response_model=UploadList, summary="The caller's uploads")
def list_uploads(conn: ConnDep, caller: CallerDep,
                 limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100) -> UploadList:
    """The uploads made with this key, newest first; never another key's."""
    return UploadList(uploads=[upload_public(record) for record in
                               store.list_uploads(conn, owner=caller.id, limit=limit)])


@router.get("/{upload_id}", response_model=UploadPublic, responses=errors(404), summary="One upload")
def read_upload(upload: UploadDep) -> UploadPublic:
    """The upload's files with their paths, sizes and SHA-256."""
    return upload_public(upload)


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=errors(404, 409), summary="Delete an upload and its files")
def delete_upload(upload: UploadDep, conn: ConnDep, settings: SettingsDep) -> Response:
    """Remove the upload's files: 204, then 404. While a queued or running job of this key names one of
    them: 409 (cancel the job, or wait for it to finish)."""
    outcome, job_id = retention.delete_upload(conn, settings=settings, upload_id=upload.id, owner=upload.owner)
    if outcome == "in use":
        raise HTTPException(status.HTTP_409_CONFLICT, f"upload {upload.id} is named by job {job_id}, which is "
                            "queued or running; cancel it or wait for it to finish, then delete the upload")
    if outcome == "missing":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no upload with id '{upload.id}'")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def upload_public(record: UploadRecord) -> UploadPublic:
    """The wire view of a stored upload."""
    return UploadPublic(id=record.id, files=[UploadedFile.model_validate(file) for file in record.files],
                        bytes=record.bytes, created_at=timestamp(record.created_at))  # type: ignore[arg-type]
