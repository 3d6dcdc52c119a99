"""report.pdf: report.html printed by headless Chromium (the engine the map is tested in).

Chromium lays out the page exactly as a planner's browser shows report.html (CJK line
breaking, fonts from fontconfig, CSS paged media) and needs no Python dependency; the machine
already has it for the map tests. It runs with a throwaway profile and no network services,
on a copy of the page in a temporary folder, and writes the PDF whole or not at all.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from optimizer.errors import ExportError
from optimizer.report.atomic import write_bytes

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install Chromium (`apt-get install chromium`) or leave `report` out of --formats"
PRINT_TIMEOUT_S = 180.0   # a long build list is a few seconds; a hung browser is stopped, not waited on
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--no-pdf-header-footer",
         "--host-resolver-rules=MAP * ~NOTFOUND")   # no name resolves: the browser cannot call out while printing


def pdf_engine() -> str | None:
    """The path of the Chromium that prints the report, or None when none is installed."""
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def require_pdf_engine() -> str:
    """The Chromium path; `ExportError` saying what to install when there is none."""
    engine = pdf_engine()
    if engine is None:
        raise ExportError(f"report.pdf needs headless Chromium, which is not installed; {INSTALL_HINT}", "--formats")
    return engine


def print_pdf(page: str, pdf_path: Path) -> Path:
    """Print the HTML `page` (self-contained) to `pdf_path` with headless Chromium.

    Raises `ExportError` when Chromium is missing or fails (its last words in the message).
    """
    engine = require_pdf_engine()
    with tempfile.TemporaryDirectory(prefix="eldercare-pdf-") as folder:
        work = Path(folder)
        html_path, printed = work / "report.html", work / "report.pdf"
        html_path.write_text(page, encoding="utf-8")
        command = [engine, *FLAGS, f"--user-data-dir={work / 'profile'}", f"--print-to-pdf={printed}",
                   html_path.as_uri()]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ExportError(f"Chromium did not print report.pdf within {PRINT_TIMEOUT_S:.0f} s",
                              str(pdf_path)) from None
        data = printed.read_bytes() if printed.is_file() else b""
        if run.returncode != 0 or not data.startswith(b"%PDF"):
            tail = " | ".join(run.stderr.strip().splitlines()[-3:])
            raise ExportError(f"Chromium could not print report.pdf (exit {run.returncode}): {tail}", str(pdf_path))
    return write_bytes(pdf_path, data)
