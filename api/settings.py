"""Server settings: one class, read from ``ELDERCARE_*`` environment variables, validated at startup."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from optimizer.export.pdf import pdf_engine
from optimizer.export.writer import FORMATS as EXPORT_FORMATS

MIB = 1 << 20
GIB = 1 << 30


def default_exports() -> tuple[str, ...]:
    """What a planner takes away (not the PNG snapshots); report.pdf only where Chromium can print it."""
    return tuple(f for f in EXPORT_FORMATS if f != "png" and (f != "report" or pdf_engine() is not None))


class Settings(BaseSettings):
    """Everything the service and its workers need to know; `eldercare serve` options override.

    Every field can be set as an environment variable ``ELDERCARE_<FIELD>`` (e.g.
    ``ELDERCARE_MAX_QUEUED_JOBS=50``). Unsafe combinations are refused at startup.
    """

    model_config = SettingsConfigDict(env_prefix="ELDERCARE_", extra="forbid", frozen=True)

    environment: Literal["local", "production"] = Field(
        "local", description="'production' refuses defaults that are only fit for a laptop.")
    data_dir: Path = Field(Path("eldercare-data"), description="Job store (SQLite), uploads and results.")
    workers: int = Field(2, ge=0, le=64, description="Solve worker processes started with the server "
                         "(0: accept and store only; run `python -m api.worker` elsewhere on this machine).")
    max_body_bytes: int = Field(20 * MIB, ge=1024, description="Largest JSON request body (413 above).")
    max_upload_bytes: int = Field(200 * MIB, ge=1024, description="Largest upload request (413 above).")
    max_queued_jobs: int = Field(100, ge=1, description="Queued jobs beyond which submissions get 429.")
    retry_after_s: int = Field(30, ge=1, description="Retry-After of a 429.")
    max_time_limit_s: float = Field(300.0, gt=0, description="Cap on a scenario's `solver.time_limit_s`.")
    max_threads: int = Field(1, ge=1, description="Cap on a scenario's `solver.threads`.")
    job_timeout_s: float = Field(1800.0, gt=0, description="Wall-clock limit of one job (solve, checks, "
                                 "exports, every sweep level); the job fails when it is exceeded.")
    max_sweep_levels: int = Field(20, ge=1, le=1000, description="Most budget levels of one sweep.")
    heartbeat_s: float = Field(1.0, gt=0, description="How often a worker confirms that it is alive.")
    stale_after_s: float = Field(10.0, gt=0, description="A running job silent this long is run again.")
    max_attempts: int = Field(3, ge=1, description="Runs of a job interrupted this often fail it.")
    poll_s: float = Field(0.25, gt=0, description="How often an idle worker looks for queued jobs.")
    export_formats: tuple[str, ...] = Field(
        default_factory=lambda: default_exports(), description="Exports of a solve, from gpkg, geojson, csv, "
        "xlsx, html, png, report (default: all but png; report, i.e. report.pdf, where Chromium is installed).")
    auth: Literal["on", "off"] = Field("on", description="'on': every request but /v1/health needs an API key "
                                       "(`eldercare keys create`); 'off': everyone is one local user, for "
                                       "development on one's own machine only (refused in production).")
    quota_queued_jobs: int = Field(20, ge=1, description="Queued jobs one key may have (429 above); a key's "
                                   "own --max-queued replaces it.")
    quota_bytes: int = Field(5 * GIB, ge=1024, description="Bytes one key may store, uploads and results "
                             "(507 above); a key's own --max-bytes replaces it.")
    retention_days: float = Field(30.0, ge=0, description="Finished jobs older than this are deleted with their "
                                  "results (0: kept until deleted).")
    purge_every_s: float = Field(3600.0, gt=0, description="How often the server deletes expired jobs.")

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.stale_after_s < 2 * self.heartbeat_s:
            raise ValueError("`stale_after_s` must be at least twice `heartbeat_s`, or a live job is run twice")
        if self.job_timeout_s < self.max_time_limit_s:
            raise ValueError("`job_timeout_s` must be at least `max_time_limit_s`")
        unknown = set(self.export_formats) - set(EXPORT_FORMATS)
        if unknown:
            raise ValueError(f"unknown export formats {sorted(unknown)}; choose from {', '.join(EXPORT_FORMATS)}")
        if "report" in self.export_formats and pdf_engine() is None:
            raise ValueError("export format 'report' prints report.pdf with Chromium, which is not installed: "
                             "install it (`apt-get install chromium`) or leave `report` out of export_formats")
        if self.environment == "production" and self.auth == "off":
            raise ValueError("ELDERCARE_AUTH=off is for development on one's own machine; in production every "
                             "request needs an API key (create one with `eldercare keys create NAME`)")
        if self.environment == "production" and not self.data_dir.is_absolute():
            raise ValueError("in production give ELDERCARE_DATA_DIR (or --data) as an absolute path, not "
                             f"'{self.data_dir}' relative to wherever the server happens to start")
        return self

    @property
    def db_path(self) -> Path:
        """The SQLite job store."""
        return self.data_dir / "jobs.sqlite3"

    @property
    def files_dir(self) -> Path:
        """Uploaded files; scenario paths must lie in here."""
        return self.data_dir / "files"

    def job_dir(self, job_id: str) -> Path:
        """Where a job writes its results."""
        return self.data_dir / "jobs" / job_id


def prepare_data_dir(settings: Settings) -> Settings:
    """Create the data folders and check they are writable; returns settings with an absolute data dir."""
    data_dir = settings.data_dir.expanduser().resolve()
    for folder in (data_dir, data_dir / "files", data_dir / "jobs"):
        folder.mkdir(parents=True, exist_ok=True)
    probe = data_dir / ".write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RuntimeError(f"the data directory {data_dir} is not writable: {exc.strerror or exc}") from None
    return settings.model_copy(update={"data_dir": data_dir})
