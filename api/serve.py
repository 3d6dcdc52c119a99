"""`eldercare serve`: run the scenario service (uvicorn, one process) and its solve workers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data: Annotated[Path | None, typer.Option(
        "--data",
        help="Data directory: job store, uploads, results (env ELDERCARE_DATA_DIR; default ./eldercare-data).",
    )] = None,
    workers: Annotated[int | None, typer.Option(
        help="Solve worker processes (env ELDERCARE_WORKERS; default 2); 0 only stores jobs.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the HTTP scenario service: submit scenarios and sweeps, poll jobs, fetch plans and maps (/v1/docs)."""
    import uvicorn
    from pydantic import ValidationError

    from api.app import create_app
    from api.logs import configure_logging
    from api.settings import Settings

    overrides = {key: value for key, value in (("data_dir", data), ("workers", workers)) if value is not None}
    configure_logging()
    try:
        app = create_app(Settings(**overrides))  # type: ignore[arg-type]
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(map(str, error["loc"])) or "settings"
            typer.echo(f"error: {where}: {error['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None
    except (RuntimeError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=15)
