"""The output folder, checked before a run: a folder that can be written, holding no input the run would overwrite.

A solve can take minutes; finding only afterwards that ``--out`` is a file, is read-only, or is
the scenario's own folder with an input named like an output (a demand layer ``plan.geojson``,
a scenario ``plan.json``) loses the run or the input. `check_out_dir` finds all three first.

Flow: called by the CLI (solve, export, sweep) before any solving; writes nothing that stays.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from optimizer.errors import OutputFolderError


def check_out_dir(out_dir: Path, *, outputs: Iterable[str], inputs: Iterable[Path], option: str = "--out") -> None:
    """Raise `OutputFolderError` (location `option`) unless the run can write its files into `out_dir`.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing (the check leaves no folder or file behind).
    outputs : iterable of str
        What the run writes, relative to `out_dir`: files (``plan.json``) or folders (``levels``).
    inputs : iterable of Path
        Every file the run reads (the scenario and its data files).
    option : str
        The option naming the folder, for the message.
    """
    _check_folder(out_dir, option)
    overwritten = _overwritten_inputs(out_dir, list(outputs), list(inputs))
    if overwritten:
        raise OutputFolderError(f"{out_dir} holds {', '.join(overwritten)}, read by this run and overwritten by "
                                f"its output; choose another output folder, e.g. {out_dir / 'out'}", option)


def _check_folder(out_dir: Path, option: str) -> None:
    """A folder (or creatable as one) in which a file can be created and deleted."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"{out_dir} is a file, not a folder; give a folder (it is created if missing)",
                                option)
    existing = next((p for p in [out_dir, *out_dir.absolute().parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise OutputFolderError(f"cannot create {out_dir}: {existing} is a file; give a folder path", option)
    created = [p for p in [out_dir.absolute(), *out_dir.absolute().parents] if not p.exists()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=out_dir, prefix=".eldercare-probe.", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputFolderError(f"cannot write into {out_dir} ({exc.strerror or exc}); give a folder you "
                                "can write to", option) from None
    finally:
        for folder in created:   # deepest first: leave no trace of the check
            with suppress(OSError):
                folder.rmdir()


def _overwritten_inputs(out_dir: Path, outputs: list[str], inputs: list[Path]) -> list[str]:
    """The inputs that are, or lie inside, one of the outputs, named relative to `out_dir`."""
    folder = out_dir.resolve()
    targets = [folder / name for name in outputs]
    found = []
    for path in inputs:
        real = path.resolve()
        if any(real.is_relative_to(target) or _same_file(path, target) for target in targets):
            found.append(real.relative_to(folder).as_posix() if real.is_relative_to(folder) else str(path))
    return sorted(set(found))


def _same_file(path: Path, target: Path) -> bool:
    """Hard links and other second names of one file."""
    try:
        return os.path.samefile(path, target)
    except OSError:
        return False
