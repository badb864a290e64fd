"""What every command module needs: the workspace it runs in, and how problems are printed."""

from __future__ import annotations

from pathlib import Path

import click

from journeylens.errors import Issue
from journeylens.workspace import Workspace

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def workspace_of(ctx: click.Context) -> Workspace:
    """The workspace named by ``-w`` (the current directory by default)."""
    root: Path = ctx.obj["workspace"]
    return Workspace.open(root)


def print_issues(issues: list[Issue]) -> int:
    """Print each problem (errors red, warnings yellow); returns how many are errors."""
    for issue in issues:
        colour = "red" if issue.severity == "error" else "yellow"
        click.echo(click.style(str(issue), fg=colour), err=False)
    return sum(i.severity == "error" for i in issues)
