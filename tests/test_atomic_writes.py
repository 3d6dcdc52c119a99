"""Writes that cannot lose a plan: whole files or none, and an output folder checked before the run.

End to end with real files: a solve that runs out of room (RLIMIT_FSIZE in a subprocess, so
writes fail with EFBIG as on a full disk) exits 3 in one line and leaves the earlier plan
byte-identical; an unusable ``--out`` exits 2 before anything is solved. Then the helpers
(`optimizer.report.atomic`, `optimizer.report.outdir`) on their own.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.errors import DiskFullError, OutputFolderError, WriteError
from optimizer.export.pdf import pdf_engine
from optimizer.report.atomic import replaced_together, write_text, written_at
from optimizer.report.outdir import check_out_dir
from tests.conftest import SHARED

EXAMPLE_FILES = ("scenario.json", "demand.geojson", "sites.geojson")
OUTPUTS = ("plan.json", "plan.gpkg", "plan.geojson", "plan.csv", "plan.xlsx", "map.html", "map.png", "targets.png",
           *(("report.html", "report.pdf") if pdf_engine() else ()))   # `all` has the report where Chromium is


def _copy_example(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_FILES:
        shutil.copyfile(SHARED / name, folder / name)
    return folder / "scenario.json"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _hidden(folder: Path) -> list[str]:
    """Anything a writer left behind: temporary files and folders start with a dot."""
    return sorted(p.name for p in folder.rglob(".*"))


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example scenario and a good plan with every export in ``out/``, from an earlier solve."""
    folder = tmp_path_factory.mktemp("solved")
    scenario = _copy_example(folder)
    run = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(scenario), "--out", str(folder / "out")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert {p.name for p in (folder / "out").iterdir()} == set(OUTPUTS)
    return folder


def _limited(limit_bytes: int) -> Any:
    """A preexec_fn: files may not grow past `limit_bytes`; writes then fail with EFBIG, not a signal."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.parametrize(("limit_bytes", "failing"), [(4096, "plan.json"), (100_000, "plan.gpkg")])
def test_solve_out_of_room_exits_3_in_one_line_and_keeps_the_earlier_plan_byte_identical(
        solved: Path, tmp_path: Path, limit_bytes: int, failing: str) -> None:
    """plan.json (23 kB) fails at 4 kB; at 100 kB it fits and GDAL fails on plan.gpkg (300 kB) instead.

    Either way plan.json and the exports replace the earlier files together or not at all.
    """
    folder = tmp_path / "run"
    shutil.copytree(solved, folder)
    out = folder / "out"
    before = _snapshot(out)
    run = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(folder / "scenario.json"),
                          "--out", str(out)], capture_output=True, text=True, timeout=300,
                         preexec_fn=_limited(limit_bytes))
    assert run.returncode == 3, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines == [f"error: no space left on the disk writing {out / failing}: free space or choose another "
                     "output folder (--out); the previous files are intact"]
    assert "Traceback" not in run.stdout + run.stderr
    assert _snapshot(out) == before
    assert _hidden(folder) == []


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def no_solving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Solving or sweeping fails the test: the checks must come first."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("solved before checking --out")

    monkeypatch.setattr("optimizer.plan.solve_file", refuse)
    monkeypatch.setattr("optimizer.sweep.run.sweep_file", refuse)


def _error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.usefixtures("no_solving")
@pytest.mark.parametrize("collision", ["data file plan.geojson", "scenario plan.json"])
def test_out_in_the_scenario_folder_holding_an_input_it_would_overwrite_exits_2_before_solving(
        tmp_path: Path, collision: str) -> None:
    scenario = _copy_example(tmp_path)
    if collision == "data file plan.geojson":
        (tmp_path / "demand.geojson").rename(tmp_path / "plan.geojson")
        scenario.write_text(scenario.read_text(encoding="utf-8").replace('"demand.geojson"', '"plan.geojson"'),
                            encoding="utf-8")
        expected = "plan.geojson"
    else:
        scenario = scenario.rename(tmp_path / "plan.json")
        expected = "plan.json"
    before = _snapshot(tmp_path)
    code, output = _invoke("solve", str(scenario), "--out", str(tmp_path))
    assert code == 2, output
    line = _error_line(output)
    assert line.startswith("error: --out: ") and f"holds {expected}," in line and "choose another output folder" in line
    assert _snapshot(tmp_path) == before   # nothing written, every input as it was


@pytest.mark.usefixtures("no_solving")
def test_sweep_into_the_scenario_folder_with_an_input_under_levels_exits_2(tmp_path: Path) -> None:
    scenario = _copy_example(tmp_path)
    (tmp_path / "levels").mkdir()
    (tmp_path / "demand.geojson").rename(tmp_path / "levels" / "demand.geojson")
    scenario.write_text(scenario.read_text(encoding="utf-8").replace('"demand.geojson"', '"levels/demand.geojson"'),
                        encoding="utf-8")
    code, output = _invoke("sweep", str(scenario), "--out", str(tmp_path), "--levels", "2")
    assert code == 2 and "holds levels/demand.geojson" in _error_line(output)


@pytest.mark.usefixtures("no_solving")
@pytest.mark.parametrize("command", ["solve", "sweep", "export"])
def test_out_that_is_an_existing_file_exits_2(solved: Path, tmp_path: Path, command: str) -> None:
    target = tmp_path / "taken.txt"
    target.write_text("not a folder", encoding="utf-8")
    subject = solved / ("out/plan.json" if command == "export" else "scenario.json")
    code, output = _invoke(command, str(subject), "--out", str(target))
    assert code == 2, output
    assert _error_line(output) == f"error: --out: {target} is a file, not a folder; give a folder (it is created " \
                                  "if missing)"
    assert target.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.usefixtures("no_solving")
def test_out_below_a_regular_file_cannot_be_created_and_exits_2_before_solving(tmp_path: Path) -> None:
    """Stands for an unwritable folder even as root, which chmod does not stop."""
    scenario = _copy_example(tmp_path / "scenario")
    blocker = tmp_path / "FILE"
    blocker.write_bytes(b"")
    code, output = _invoke("solve", str(scenario), "--out", str(blocker / "sub"))
    assert code == 2, output
    assert _error_line(output) == f"error: --out: cannot create {blocker / 'sub'}: {blocker} is a file; give a " \
                                  "folder path"


@pytest.mark.usefixtures("no_solving")
@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a chmod 0o555 folder; the test below a file "
                                              "covers an unwritable --out")
def test_read_only_out_exits_2_before_solving(tmp_path: Path) -> None:
    scenario = _copy_example(tmp_path / "scenario")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, output = _invoke("solve", str(scenario), "--out", str(locked))
    finally:
        locked.chmod(0o755)
    assert code == 2 and _error_line(output).startswith(f"error: --out: cannot write into {locked} (")


# -- the helpers on their own ----------------------------------------------------------------


def test_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "plan.gpkg"
    path.write_bytes(b"the earlier plan")
    with pytest.raises(DiskFullError, match=r"no space left on the disk writing .*plan\.gpkg"), \
            written_at(path) as tmp:
        assert tmp.parent.parent == tmp_path and tmp.name == "plan.gpkg"   # same folder, same name and extension
        tmp.write_bytes(b"half a GeoPack")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert path.read_bytes() == b"the earlier plan"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.gpkg"]


def test_quota_exceeded_while_syncing_is_disk_full_and_keeps_the_old_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "plan.json"
    path.write_text("{}", encoding="utf-8")

    def no_quota(fd: int) -> None:
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(os, "fsync", no_quota)
    with pytest.raises(DiskFullError) as caught:
        write_text(path, '{"status": "optimal"}')
    assert caught.value.path == str(path)
    assert path.read_text(encoding="utf-8") == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_other_write_failure_is_a_write_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "map.html"
    with pytest.raises(WriteError, match=r"cannot write .*map.html \(Permission denied\)") as caught, \
            written_at(path):
        raise PermissionError(errno.EACCES, "Permission denied")
    assert not isinstance(caught.value, DiskFullError)
    assert list(tmp_path.iterdir()) == []


def test_an_error_that_is_not_a_write_failure_passes_through_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(ValueError, match="a bug"), written_at(path) as tmp:
        tmp.write_text("new", encoding="utf-8")
        raise ValueError("a bug")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_a_write_replaces_the_old_file_with_ordinary_permissions(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("old", encoding="utf-8")
    assert write_text(path, "新的") == path
    assert path.read_text(encoding="utf-8") == "新的"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_files_of_a_block_replace_together_or_not_at_all(tmp_path: Path) -> None:
    first, second = tmp_path / "plan.json", tmp_path / "plan.gpkg"
    first.write_text("old plan", encoding="utf-8")
    second.write_text("old layers", encoding="utf-8")
    with pytest.raises(DiskFullError, match=r"plan\.gpkg"), replaced_together():
        write_text(first, "new plan")
        assert first.read_text(encoding="utf-8") == "old plan"   # staged until the block ends
        with written_at(second) as tmp:
            tmp.write_text("new lay", encoding="utf-8")
            raise OSError(errno.EFBIG, "File too large")
    assert first.read_text(encoding="utf-8") == "old plan"
    assert second.read_text(encoding="utf-8") == "old layers"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.gpkg", "plan.json"]
    with replaced_together(), replaced_together():   # nested blocks join the outer one
        write_text(first, "new plan")
        write_text(second, "new layers")
    assert (first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")) == ("new plan", "new layers")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.gpkg", "plan.json"]


def test_check_out_dir_creates_nothing_that_stays(tmp_path: Path) -> None:
    check_out_dir(tmp_path / "a" / "b", outputs=OUTPUTS, inputs=[tmp_path / "scenario.json"])
    assert list(tmp_path.iterdir()) == []


def test_check_out_dir_names_every_input_an_output_would_overwrite(tmp_path: Path) -> None:
    inputs = [tmp_path / "plan.json", tmp_path / "map.png", tmp_path / "sites.geojson"]
    for path in inputs:
        path.write_bytes(b"input")
    with pytest.raises(OutputFolderError, match=r"holds map\.png, plan\.json, read by this run") as caught:
        check_out_dir(tmp_path, outputs=OUTPUTS, inputs=inputs, option="--out")
    assert caught.value.problems[0].location == "--out"
    check_out_dir(tmp_path, outputs=("plan.gpkg",), inputs=inputs)   # a run writing only plan.gpkg is fine


@pytest.mark.usefixtures("no_solving")
def test_out_where_no_file_can_be_created_exits_2_before_solving(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """What a read-only folder does to a non-root user (root passes chmod, so the probe is made to fail)."""
    scenario = _copy_example(tmp_path / "scenario")

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("optimizer.report.outdir.tempfile.mkstemp", read_only)
    code, output = _invoke("solve", str(scenario), "--out", str(tmp_path / "out"))
    assert code == 2, output
    assert _error_line(output) == (f"error: --out: cannot write into {tmp_path / 'out'} (Read-only file system); "
                                   "give a folder you can write to")
    assert not (tmp_path / "out").exists()   # the check removes the folder it made
