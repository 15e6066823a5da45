"""The lean lookup of pydantic plug-ins (tui/pydantic_plugins.py) never hides one.

`eventscope` answers pydantic's plug-in lookup by reading each distribution's
`entry_points.txt` as text, and imports `importlib.metadata` only when a `[pydantic]`
section (or a place it cannot read that way) is found. These tests install a real
plug-in in a folder on `sys.path` and check that pydantic still calls it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tui.pydantic_plugins import pydantic_plugins_declared

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = """
import os


class Seen:
    def new_schema_validator(self, schema, schema_type, path, kind, config, settings):
        with open(os.environ["SEEN_FILE"], "a") as out:
            out.write(path.name + "\\n")
        return None, None, None


plugin = Seen()
"""


def _distribution(folder: Path, name: str, entry_points: str | None) -> None:
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_no_pydantic_section_means_no_plugin(tmp_path: Path) -> None:
    _distribution(tmp_path, "quiet", "[console_scripts]\nquiet = quiet:main\n")
    _distribution(tmp_path, "bare", None)
    (tmp_path / "old.egg-info").write_text("Name: old\n")  # a one-file egg-info
    assert not pydantic_plugins_declared([str(tmp_path), str(tmp_path / "missing")])


def test_a_pydantic_section_is_seen(tmp_path: Path) -> None:
    _distribution(tmp_path, "loud", "[console_scripts]\nx = y:z\n\n[ pydantic ]\nseen = p:q\n")
    assert pydantic_plugins_declared([str(tmp_path)])


def test_places_it_cannot_read_as_text_count_as_a_plugin(tmp_path: Path) -> None:
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("empty.txt", "")
    assert pydantic_plugins_declared([str(archive)])
    (tmp_path / "eggs").mkdir()
    (tmp_path / "eggs" / "thing-1.0.egg").mkdir()
    assert pydantic_plugins_declared([str(tmp_path / "eggs")])


def _run_exec_with(plugin_folder: Path, tmp_path: Path, **env: str) -> tuple[list[str], bool]:
    """`exec open_account` in a fresh interpreter with `plugin_folder` on its path: the
    model paths pydantic's plug-in saw, and whether `importlib.metadata` was loaded."""
    seen = tmp_path / "seen.txt"
    db = str(tmp_path / "x.db")
    subprocess.run(
        [sys.executable, "-m", "tui", "--db", db, "init"], cwd=ROOT, check=True, capture_output=True
    )
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        f"code = main(['--db', {db!r}, '--actor', 'ann', 'exec',\n"
        "  'open_account', 'account_id=a1', 'owner=Ann', 'currency=EUR'])\n"
        "assert code == 0, code\n"
        "print('importlib.metadata' in sys.modules, file=sys.stderr)\n"
    )
    path = os.pathsep.join([str(plugin_folder), str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": path, "SEEN_FILE": str(seen), **env},
    )
    names = seen.read_text().split() if seen.exists() else []
    return names, done.stderr.split()[-1] == "True"


def test_an_installed_pydantic_plugin_still_runs_on_exec(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "seen_plugin.py").write_text(PLUGIN)
    _distribution(plugins, "seen-plugin", "[pydantic]\nseen = seen_plugin:plugin\n")
    names, metadata_loaded = _run_exec_with(plugins, tmp_path)
    assert "OpenAccount" in names  # the command's model was validated through the plug-in
    assert metadata_loaded  # pydantic's own loader ran


def test_pydantic_disable_plugins_is_honoured(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "seen_plugin.py").write_text(PLUGIN)
    _distribution(plugins, "seen-plugin", "[pydantic]\nseen = seen_plugin:plugin\n")
    names, metadata_loaded = _run_exec_with(plugins, tmp_path, PYDANTIC_DISABLE_PLUGINS="1")
    assert names == []
    assert not metadata_loaded


def test_without_plugins_exec_reads_no_package_metadata(tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    names, metadata_loaded = _run_exec_with(empty, tmp_path)
    assert names == []
    assert not metadata_loaded
