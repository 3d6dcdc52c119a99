"""`eldercare keys create|list|revoke`: manage the scenario service's API keys on its data directory.

Run on the server's machine, against the same data directory as `eldercare serve` (``--data`` or
ELDERCARE_DATA_DIR); a running server sees a new or revoked key at once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from api import keys, store
from api.settings import Settings, prepare_data_dir

keys_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="API keys of the scenario service: create (the secret is shown once), list, revoke.")

DataOption = Annotated[Path | None, typer.Option(
    "--data", help="The service's data directory (env ELDERCARE_DATA_DIR; default ./eldercare-data).")]


def _open(data: Path | None) -> sqlite3.Connection:
    """The job store of `data` (or of the settings' data directory); exit 2 with a message when impossible."""
    try:
        settings = Settings(data_dir=data) if data is not None else Settings()
        settings = prepare_data_dir(settings)
        conn = store.connect(settings.db_path)
        store.init_db(conn)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(map(str, error["loc"])) or "settings"
            typer.echo(f"error: {where}: {error['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None
    except (RuntimeError, OSError, sqlite3.Error) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return conn


def _when(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


@keys_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="Who uses the key, e.g. 'city-gis-portal'.")],
    data: DataOption = None,
    max_queued: Annotated[int | None, typer.Option(
        "--max-queued", min=1, help="Queued jobs this key may have (default ELDERCARE_QUOTA_QUEUED_JOBS).")] = None,
    max_bytes: Annotated[int | None, typer.Option(
        "--max-bytes", min=1024, help="Bytes of uploads and results this key may store (default "
        "ELDERCARE_QUOTA_BYTES).")] = None,
) -> None:
    """Create a key and print it once on stdout: give it to the program that will call the service."""
    conn = _open(data)
    try:
        record, token = keys.create_key(conn, name=name, now=time.time(), max_queued=max_queued,
                                        max_bytes=max_bytes)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        conn.close()
    typer.echo(f"created key {record.id} ({record.name}); the key below is shown only now: send it as "
               "'Authorization: Bearer <key>' or 'X-API-Key: <key>'", err=True)
    typer.echo(token)


@keys_app.command("list")
def list_command(
    data: DataOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """Every key: id, name, when created and revoked, its own quotas (never the secret)."""
    conn = _open(data)
    try:
        rows = [{"id": k.id, "name": k.name, "created": _when(k.created), "revoked": _when(k.revoked),
                 "max_queued": k.max_queued, "max_bytes": k.max_bytes} for k in keys.list_keys(conn)]
    finally:
        conn.close()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        state = f"revoked {row['revoked']}" if row["revoked"] else "active"
        quotas = f"max queued {row['max_queued'] or 'default'}, max bytes {row['max_bytes'] or 'default'}"
        typer.echo(f"{row['id']}  {row['name']}  created {row['created']}  {state}  ({quotas})")
    if not rows:
        typer.echo("no keys yet: create one with `eldercare keys create NAME`", err=True)


@keys_app.command("revoke")
def revoke_command(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (`eldercare keys list`).")],
    data: DataOption = None,
) -> None:
    """Revoke a key: its requests get 401 from now on; its jobs and uploads stay until deleted or expired."""
    conn = _open(data)
    try:
        record = keys.revoke_key(conn, key_id=key_id, now=time.time())
    finally:
        conn.close()
    if record is None:
        typer.echo(f"error: no key with id '{key_id[:40]}'; see `eldercare keys list`", err=True)
        raise typer.Exit(2)
    typer.echo(f"key {record.id} ({record.name}) revoked {_when(record.revoked)}")
