"""The CJK font every chart draws Chinese with, registered from its file.

Matplotlib's font cache is built once and goes stale: a font installed after the cache was
written is invisible to it, and its charts draw Chinese as boxes. So the font FILE is found
(fontconfig's ``fc-list :lang=zh file``, then known Debian/macOS/Windows paths) and registered
with ``fontManager.addfont`` on every process start, whatever the cache holds. Without one the
export fails, naming the package to install, rather than writing a chart of boxes.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import matplotlib as mpl
from matplotlib.font_manager import FontProperties, fontManager

from optimizer.errors import ExportError

KNOWN_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",   # Debian/Ubuntu fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",     # fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",   # fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
"""Where the usual CJK fonts are installed, tried after fontconfig."""
INSTALL_HINT = ("install a CJK font: `apt-get install fonts-wqy-microhei` (Debian/Ubuntu), or Noto Sans CJK SC "
                "/ Microsoft YaHei elsewhere")
SAMPLE = "平阴县养老服务设施"   # a file must hold these glyphs to count as a Chinese font


def _fontconfig_files() -> list[str]:
    """Font files fontconfig lists as covering Chinese (empty without fc-list)."""
    binary = shutil.which("fc-list")
    if binary is None:
        return []
    try:
        run = subprocess.run([binary, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    files = [line.split(":")[0].strip() for line in run.stdout.splitlines() if line.strip()]
    return sorted(f for f in files if f.lower().endswith((".ttf", ".ttc", ".otf")))


def _has_chinese(path: Path) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    charmap = font.get_charmap()
    return all(ord(ch) in charmap for ch in SAMPLE)


def cjk_font_file() -> Path | None:
    """The first installed font file holding Chinese glyphs: known paths first (a preferred,
    complete font), then whatever fontconfig reports; None when there is none."""
    for name in [*KNOWN_FILES, *_fontconfig_files()]:
        path = Path(name)
        if path.is_file() and _has_chinese(path):
            return path
    return None


@lru_cache(maxsize=1)
def cjk_family() -> str:
    """Register the CJK font file with matplotlib (once per process) and return its family name.

    Raises `ExportError` naming the package to install when no CJK font is found.
    """
    path = cjk_font_file()
    if path is None:
        raise ExportError(f"no font with Chinese glyphs is installed, so the charts would draw boxes; {INSTALL_HINT}",
                          "fonts")
    fontManager.addfont(str(path))
    return str(FontProperties(fname=str(path)).get_name())


@contextmanager
def chart_fonts() -> Iterator[str]:
    """rc settings drawing Latin text in DejaVu Sans and Chinese in the registered CJK font."""
    family = cjk_family()
    with mpl.rc_context({"font.family": ["DejaVu Sans", family], "axes.unicode_minus": False}):
        yield family


def _em(ch: str) -> float:
    """Width of a character in ems, roughly: CJK and full-width 1, Latin about 0.6."""
    return 1.0 if ord(ch) >= 0x2E80 else 0.6


def fit_text(text: str, width_in: float, fontsize: float) -> str:
    """`text` broken into lines no wider than `width_in` inches at `fontsize` points.

    Breaks at spaces where it can, inside a run of CJK characters (which has none) where it must;
    existing line breaks are kept. Widths are estimated, so titles leave a little margin.
    """
    limit = 0.92 * width_in * 72 / fontsize   # in ems
    return "\n".join(_fit_line(line, limit) for line in text.split("\n"))


def _fit_line(line: str, limit: float) -> str:
    lines: list[str] = []
    current, width = "", 0.0
    for word in line.split(" "):
        word_width = sum(map(_em, word))
        space = _em(" ") if current else 0.0
        if current and width + space + word_width > limit:
            lines.append(current)
            current, width, space = "", 0.0, 0.0
        while word_width > limit:   # a word longer than a line (Chinese without spaces): cut it
            cut, cut_width = 0, 0.0
            while cut < len(word) and cut_width + _em(word[cut]) <= limit - width - space:
                cut_width += _em(word[cut])
                cut += 1
            if cut == 0 and current:
                lines.append(current)
                current, width, space = "", 0.0, 0.0
                continue
            cut = max(cut, 1)
            lines.append(current + (" " if current else "") + word[:cut])
            current, width, space = "", 0.0, 0.0
            word = word[cut:]
            word_width = sum(map(_em, word))
        current += (" " if current and word else "") + word
        width += space + word_width
    lines.append(current)
    return "\n".join(lines)
