"""The import-boundary contracts are part of the build: prove they pass, and that they bite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "src",
        project / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.ttf", "examples"),
    )
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    return project


def test_the_layers_hold(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_model_importing_another_layer_fails_the_build(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    model = project / "src/journeylens/model/journey_map.py"
    model.write_text(model.read_text() + "\nimport journeylens.render.labels  # a layer breach\n")
    result = _lint(project)
    assert result.returncode == 1
    assert "journeylens.model.journey_map -> journeylens.render.labels" in result.stdout


def test_cli_reaching_past_the_facade_fails_the_build(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    cli = project / "src/journeylens/cli/main.py"
    cli.write_text(cli.read_text() + "\nimport journeylens.documents.loading  # breach\n")
    result = _lint(project)
    assert result.returncode == 1
    assert "journeylens.cli.main -> journeylens.documents.loading" in result.stdout
