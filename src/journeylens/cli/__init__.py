"""The ``journeylens`` command: thin commands over the :class:`~journeylens.workspace.Workspace`."""

from __future__ import annotations

from journeylens.cli.main import cli, main

__all__ = ["cli", "main"]
