"""``python -m api``: the same as ``eldercare serve``."""

import typer

from api.serve import serve_command

if __name__ == "__main__":
    typer.run(serve_command)
