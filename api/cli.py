"""The whole `eldercare` command: the engine's commands (`optimizer.cli`) plus the service's.

The engine knows nothing of HTTP; this module, at the outer edge, adds `eldercare serve` and
`eldercare keys create|list|revoke` (the service's API keys) to the engine's command-line app.
It is the console script's entry point (see pyproject.toml).
"""

from __future__ import annotations

from api.keys_cli import keys_app
from api.serve import serve_command
from optimizer.cli.main import app

app.command("serve")(serve_command)
app.add_typer(keys_app, name="keys")


def main() -> None:
    """Entry point of the `eldercare` console script and of ``python -m api``."""
    app(prog_name="eldercare")
