"""A workspace on disk: ``journeylens.yaml`` plus ``maps/*.yaml``, checked as a whole."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from journeylens.documents.loading import Loaded, load_document
from journeylens.documents.patching import patch_scalars, scalar_changes
from journeylens.documents.references import Registry, check_map_tree, check_workspace_tree
from journeylens.documents.yaml_io import (
    merge_into,
    parse_yaml,
    to_plain,
    write_text_atomic,
    write_yaml,
)
from journeylens.errors import Issue
from journeylens.model.common import Document
from journeylens.model.journey_map import JourneyMap
from journeylens.model.workspace import WorkspaceFile

D = TypeVar("D", bound=Document)
WORKSPACE_FILE = "journeylens.yaml"
MAPS_DIR = "maps"


def display_path(path: Path) -> str:
    """Paths relative to the current directory when possible: short and clickable."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load_workspace_file(root: Path) -> Loaded[WorkspaceFile]:
    path = root / WORKSPACE_FILE
    loaded = load_document(path, WorkspaceFile, display=display_path(path))
    for loc, message, severity in check_workspace_tree(loaded.tree):
        loaded.issues.append(loaded.issue(loc, message, severity=severity))
    return loaded


def load_map_file(path: Path, registry: Registry | None) -> Loaded[JourneyMap]:
    loaded = load_document(path, JourneyMap, display=display_path(path))
    if isinstance(loaded.tree, dict):
        for loc, message, severity in check_map_tree(loaded.tree, registry):
            loaded.issues.append(loaded.issue(loc, message, severity=severity))
    if loaded.issues:
        loaded.model = None if any(i.severity == "error" for i in loaded.issues) else loaded.model
    return loaded


def map_files(root: Path) -> list[Path]:
    return sorted((root / MAPS_DIR).glob("*.y*ml"))


@dataclass
class WorkspaceCheck:
    """Everything read from a workspace, valid or not, with every issue found."""

    root: Path
    workspace: Loaded[WorkspaceFile]
    maps: list[Loaded[JourneyMap]] = field(default_factory=list)

    @property
    def issues(self) -> list[Issue]:
        found = list(self.workspace.issues)
        for loaded in self.maps:
            found.extend(loaded.issues)
        return sorted(found)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


def check_workspace(
    root: Path, only: list[Path] | None = None, *, instead: tuple[Path, Path] | None = None
) -> WorkspaceCheck:
    """Load and check the workspace; ``only`` limits which map files are reported on;
    ``instead`` = (map file, draft) checks the draft in the map's place (an edit not yet saved)."""
    workspace = load_workspace_file(root)
    registry = Registry.from_tree(workspace.tree) if isinstance(workspace.tree, dict) else None
    check = WorkspaceCheck(root, workspace)
    paths = map_files(root)
    if instead is not None:
        original, draft = instead
        paths = [draft if p.resolve() == original.resolve() else p for p in paths]
    workspace_path = (root / WORKSPACE_FILE).resolve()
    for extra in only or []:
        if extra.name == WORKSPACE_FILE or extra.resolve() == workspace_path:
            continue
        if extra.resolve() not in {p.resolve() for p in paths}:
            paths.append(extra)
    check.maps = [load_map_file(path, registry) for path in paths]
    _check_across_maps(check.maps)
    if only is not None:
        wanted = {p.resolve() for p in only}
        check.maps = [m for m in check.maps if m.path.resolve() in wanted]
    return check


def _check_across_maps(maps: list[Loaded[JourneyMap]]) -> None:
    by_id: dict[str, Loaded[JourneyMap]] = {}
    for loaded in maps:
        map_id = loaded.tree.get("id") if isinstance(loaded.tree, dict) else None
        if not isinstance(map_id, str):
            continue
        if map_id in by_id:
            first = by_id[map_id].display
            loaded.issues.append(
                loaded.issue(("id",), f"map id '{map_id}' is also used by {first}")
            )
        else:
            by_id[map_id] = loaded
    for loaded in maps:
        tree = loaded.tree if isinstance(loaded.tree, dict) else {}
        for key in ("translation_of", "based_on"):
            target = tree.get(key)
            if isinstance(target, str) and target not in by_id:
                known = ", ".join(sorted(by_id)) or "none"
                loaded.issues.append(
                    loaded.issue((key,), f"unknown map '{target}' (known: {known})")
                )
        original = by_id.get(tree.get("translation_of", ""))
        if original is not None and loaded.model is not None and original.model is not None:
            mine = [s.id for _, s in loaded.model.steps()]
            theirs = [s.id for _, s in original.model.steps()]
            if mine != theirs:
                missing = sorted(set(theirs) - set(mine))
                extra = sorted(set(mine) - set(theirs))
                loaded.issues.append(
                    loaded.issue(
                        ("stages",),
                        f"translation's steps differ from '{original.model.id}'"
                        f" (missing: {missing or 'none'}, extra: {extra or 'none'}, or reordered)",
                        severity="warning",
                        code="translation",
                    )
                )


def document_data(model: Document) -> Any:
    """The fields a document sets or changes, as YAML-ready values (whole floats as ints).

    Fields the file had stay even at their default; fields changed in place (a list appended
    to) are caught by comparing with the defaults.
    """
    return _tidy(
        _union(
            model.model_dump(mode="python", exclude_unset=True),
            model.model_dump(mode="python", exclude_defaults=True),
        )
    )


def _union(given: Any, changed: Any) -> Any:
    if isinstance(given, dict) and isinstance(changed, dict):
        merged = {k: _union(v, changed.get(k)) for k, v in given.items()}
        merged.update({k: v for k, v in changed.items() if k not in merged})
        return merged
    if isinstance(given, list) and isinstance(changed, list) and len(given) == len(changed):
        return [_union(a, b) for a, b in zip(given, changed, strict=True)]
    return given


def _tidy(value: Any) -> Any:
    if isinstance(value, dict):
        return {_tidy(k): _tidy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def save_document(loaded: Loaded[D], model: D) -> None:
    """Write ``model`` back into its file with the smallest diff that is correct.

    Scalar edits are spliced into the original text; structural edits go through the
    round-trip tree, which keeps comments and key order but may re-flow flow collections.
    """
    data = document_data(model)
    original = loaded.path.read_text(encoding="utf-8")
    changes = scalar_changes(to_plain(loaded.tree), data)
    patched = patch_scalars(original, changes) if changes is not None else None
    if patched is not None:
        tree, issues = parse_yaml(patched, file=loaded.display)
        if not issues and to_plain(tree) == data:
            write_text_atomic(loaded.path, patched)
            loaded.tree, loaded.model = tree, model
            return
    tree = merge_into(loaded.tree, data)
    write_yaml(loaded.path, tree)
    loaded.tree, loaded.model = tree, model
