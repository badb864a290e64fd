"""The façade over a workspace directory: the one API the CLI (and later the web app) calls.

It composes the layers below — documents (files, validation), render (drawing) — so that the
shells stay thin and never reach past it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from journeylens.analyses.conformance import Conformance
from journeylens.analyses.live import LiveMap, LiveSpec
from journeylens.analyses.painpoints import PainPoints
from journeylens.analytics import AnalyticsMixin
from journeylens.documents.loading import Loaded, load_document
from journeylens.documents.mermaid import export_mermaid, import_mermaid, slug
from journeylens.documents.schema import SchemaKind, json_schema_text
from journeylens.documents.workspace_files import (
    MAPS_DIR,
    WORKSPACE_FILE,
    WorkspaceCheck,
    check_workspace,
    display_path,
    document_data,
    load_workspace_file,
    map_files,
    save_document,
)
from journeylens.documents.yaml_io import merge_into, write_yaml
from journeylens.engine import EngineName
from journeylens.errors import Issue, RenderError, ValidationError, WorkspaceError
from journeylens.ingest.formats import STREAMED, arrow_stream, bare_spec, detect_format
from journeylens.model.journey_map import JourneyMap
from journeylens.model.sources import SourceSpec
from journeylens.model.workspace import Persona, WorkspaceFile
from journeylens.render import FORMATS, OutputFormat
from journeylens.render.html import render_html
from journeylens.render.journey_map import render_svg
from journeylens.store import database
from journeylens.store.identity import IdentityExplanation, StitchReport, explain, resolve, stitch
from journeylens.store.identity import erase as erase_identity
from journeylens.store.loading import BatchReport, load_file, pseudonym_key_from_env
from journeylens.store.progress import LoadProgress as LoadProgress
from journeylens.store.progress import ProgressCallback
from journeylens.store.queries import (
    Batch,
    QuarantinedRow,
    known_identifiers,
    list_batches,
    list_quarantine,
)
from journeylens.surveying import SURVEYS_DIR, SurveysMixin

EXAMPLES = ("running-shoes",)
SOURCES_DIR = "sources"


def examples_root() -> Path:
    return Path(str(resources.files("journeylens").joinpath("examples")))


def output_format(path: Path, explicit: str | None = None) -> OutputFormat:
    """The format named explicitly, or by the file's suffix."""
    name = (explicit or path.suffix.lstrip(".")).lower()
    for fmt in FORMATS:
        if fmt == name:
            return fmt
    raise RenderError(f"cannot tell the output format of {path}: use one of .{', .'.join(FORMATS)}")


class DataMixin:
    """Loading and reading events: the store side of the façade."""

    root: Path

    @property
    def settings(self) -> WorkspaceFile:
        """Provided by :class:`Workspace`."""
        raise NotImplementedError

    def erase_survey_identifier(self, identifier: str) -> int:
        """Provided by :class:`SurveysMixin`."""
        raise NotImplementedError

    def sources(self) -> list[SourceSpec]:
        """Every ``sources/*.yaml``; raises :class:`ValidationError` listing every problem."""
        specs, issues = [], []
        for path in sorted((self.root / SOURCES_DIR).glob("*.y*ml")):
            loaded = load_document(path, SourceSpec)
            issues.extend(loaded.issues)
            if loaded.model is not None:
                specs.append(loaded.model)
        if issues:
            raise ValidationError(issues)
        return specs

    def _spec_for(
        self,
        target: str,
        fmt: str | None,
        source_id: str | None,
        object_type: str | None = None,
    ) -> tuple[SourceSpec, list[Path]]:
        by_id = {spec.id: spec for spec in self.sources()}
        if target in by_id:
            spec = by_id[target]
            pattern = spec.path
            base = self.root if not Path(pattern).is_absolute() else Path("/")
            files = (
                sorted(base.glob(pattern.lstrip("/")))
                if any(c in pattern for c in "*?[")
                else [base / pattern.lstrip("/") if base == Path("/") else self.root / pattern]
            )
            files = [f for f in files if f.is_file()]
            if not files:
                raise WorkspaceError(f"source {spec.id!r}: no file matches {spec.path!r}")
            return spec, files
        path = Path(target)
        if not path.is_file():
            known = ", ".join(sorted(by_id)) or "none"
            raise WorkspaceError(
                f"{target}: no such file, and no source with that id (sources: {known})"
            )
        chosen = fmt or detect_format(path)
        ident = source_id or slug(path.name.split(".")[0], "file")
        return bare_spec(path, chosen, ident, object_type=object_type), [path]

    def ingest(
        self,
        target: str | None = None,
        *,
        fmt: str | None = None,
        source_id: str | None = None,
        object_type: str | None = None,
        memory_limit: str = "1GB",
        progress: ProgressCallback | None = None,
    ) -> list[BatchReport]:
        """Load a file or a source (all sources when ``target`` is None), one batch a file."""
        jobs: list[tuple[SourceSpec, list[Path]]]
        if target is None:
            jobs = [self._spec_for(spec.id, None, None) for spec in self.sources()]
            if not jobs:
                raise WorkspaceError(f"no sources in {self.root / SOURCES_DIR}: give a file")
        else:
            jobs = [self._spec_for(target, fmt, source_id, object_type)]
        try:
            settings = self.settings
            channels = [c.id for c in settings.channels]
            touchpoints = [t.id for t in settings.touchpoints]
        except ValidationError:
            channels, touchpoints = [], []
        reports = []
        with database.writer(self.root, memory_limit=memory_limit) as con:
            for spec, files in jobs:
                for path in files:
                    chosen = fmt or spec.format or detect_format(path)
                    stream = arrow_stream(path, chosen, spec) if chosen in STREAMED else None
                    reports.append(
                        load_file(
                            con,
                            spec,
                            path,
                            fmt=chosen,
                            arrow=stream,
                            display=display_path(path),
                            known_channels=channels,
                            known_touchpoints=touchpoints,
                            pseudonym_key=pseudonym_key_from_env(),
                            progress=progress,
                        )
                    )
        return reports

    def stitch(self, *, max_strong: int = 3, max_weak: int = 10) -> StitchReport:
        """Recompute customers from every stored identifier (a replay, never a merge in place)."""
        with database.writer(self.root) as con:
            return stitch(con, max_strong=max_strong, max_weak=max_weak)

    def _resolve(self, con: object, identifier: str) -> tuple[str, str]:
        found = resolve(con, identifier, pseudonym_key=pseudonym_key_from_env())  # type: ignore[arg-type]
        if not found:
            raise WorkspaceError(
                f"no identifier {identifier!r} in the store "
                "(give type:value, e.g. email:ana@example.com; stitch first)"
            )
        if len(found) > 1:
            kinds = ", ".join(f"{t}:{identifier}" for t, _ in found)
            raise WorkspaceError(f"{identifier!r} is ambiguous; say which: {kinds}")
        return found[0]

    def identity(self, identifier: str) -> IdentityExplanation:
        """Why records were joined: the customer and the chain of links to each identifier."""
        with database.reader(self.root) as con:
            id_type, id_value = self._resolve(con, identifier)
            return explain(con, id_type, id_value)

    def erase(self, identifier: str) -> tuple[int, int]:
        """Remove a customer's events and identifiers everywhere (right to erasure)."""
        with database.writer(self.root) as con:
            id_type, id_value = self._resolve(con, identifier)
            mention = identifier.partition(":")[2] if ":" in identifier else identifier
            erased = erase_identity(con, id_type, id_value, mention=mention)
        if ":" in identifier:
            self.erase_survey_identifier(identifier)
        return erased

    def demo_data(
        self, *, events: int = 100_000, seed: int = 7, load: bool = False
    ) -> tuple[Path, list[BatchReport]]:
        """Generate demo journeys into ``data/demo`` with their source definitions."""
        from journeylens.ingest.demo import SOURCES, generate

        generated = generate(self.root / "data" / "demo", events=events, seed=seed)
        (self.root / SOURCES_DIR).mkdir(exist_ok=True)
        for name, text in SOURCES.items():
            (self.root / SOURCES_DIR / f"{name}.yaml").write_text(text, encoding="utf-8")
        reports = [r for name in SOURCES for r in self.ingest(name)] if load else []
        return generated.folder, reports

    def stitch_quality(self) -> tuple[float, float]:
        """Pairwise precision and recall against the demo generator's ground truth."""
        from journeylens.store.stitch_quality import pairwise_quality

        with database.reader(self.root) as con:
            return pairwise_quality(con)

    def batches(self) -> list[Batch]:
        with database.reader(self.root) as con:
            return list_batches(con)

    def known_identifiers(self, id_type: str = "email", limit: int = 5) -> list[str]:
        """A few identifiers of stitched customers (``type:value``), e.g. to try a survey."""
        with database.reader(self.root) as con:
            return known_identifiers(con, id_type, limit)

    def quarantine(
        self, batch: int | None = None, limit: int | None = None
    ) -> list[QuarantinedRow]:
        with database.reader(self.root) as con:
            return list_quarantine(con, batch=batch, limit=limit)

    def export_events(
        self,
        path: Path,
        fmt: Literal["xes", "ocel"] | None = None,
        *,
        limit_customers: int | None = None,
    ) -> int:
        """Write the customers' events as XES or OCEL 2.0 JSON (by the file's suffix unless
        ``fmt``), one trace or object per customer, so process-mining tools can read the
        stitched journeys; streamed, so memory stays flat. Returns the events written."""
        from journeylens.store.export import export_events, export_format

        chosen = export_format(path, fmt)
        with database.reader(self.root) as con:
            return export_events(con, path, chosen, limit_customers=limit_customers)


class Workspace(SurveysMixin, DataMixin, AnalyticsMixin):
    """A journeylens workspace on disk (``journeylens.yaml`` + ``maps/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._checked: tuple[tuple[tuple[str, str], ...], WorkspaceCheck] | None = None

    # -- opening and creating ----------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | str = ".") -> Workspace:
        path = Path(root)
        if not (path / WORKSPACE_FILE).is_file():
            raise WorkspaceError(
                f"{path} is not a journeylens workspace (no {WORKSPACE_FILE}); "
                "create one with: journeylens init DIR --example running-shoes"
            )
        return cls(path)

    @classmethod
    def init(
        cls,
        root: Path | str,
        *,
        example: str | None = None,
        name: str | None = None,
        force: bool = False,
    ) -> Workspace:
        """Create a workspace: a copy of a bundled example, or an empty one."""
        path = Path(root)
        if (path / WORKSPACE_FILE).exists() and not force:
            raise WorkspaceError(f"{path / WORKSPACE_FILE} already exists (use --force)")
        path.mkdir(parents=True, exist_ok=True)
        if example is not None:
            if example not in EXAMPLES:
                raise WorkspaceError(
                    f"unknown example {example!r}; available: {', '.join(EXAMPLES)}"
                )
            shutil.copytree(examples_root() / example, path, dirs_exist_ok=True)
            workspace = cls(path)
            if name is not None:
                loaded = load_workspace_file(path)
                renamed = workspace.settings.model_copy(deep=True)
                renamed.workspace.name = name
                save_document(loaded, renamed)
            return workspace
        ident = "".join(ch if ch.isalnum() else "-" for ch in (name or path.resolve().name))
        settings = WorkspaceFile.model_validate(
            {
                "workspace": {
                    "id": ident.strip("-").lower() or "workspace",
                    "name": name or path.resolve().name,
                }
            }
        )
        data = {"journeylens": 1} | settings.model_dump(mode="json", exclude_defaults=True)
        write_yaml(path / WORKSPACE_FILE, merge_into(None, data))
        (path / MAPS_DIR).mkdir(exist_ok=True)
        return cls(path)

    # -- reading and validating ----------------------------------------------------------------
    def check(self, paths: Sequence[Path] | None = None) -> WorkspaceCheck:
        """Every issue in the workspace, or only in ``paths`` (map files or journeylens.yaml).

        The whole-workspace check is reused while no file changed (a long-lived process such
        as the web app asks for maps on every request)."""
        if paths is not None:
            return check_workspace(self.root, list(paths))
        signature = self.files_signature()
        if self._checked is not None and self._checked[0] == signature:
            return self._checked[1]
        checked = check_workspace(self.root, None)
        self._checked = (signature, checked)
        return checked

    def files_signature(self, *extra: Path) -> tuple[tuple[str, str], ...]:
        """The workspace's files by content digest: any edit changes it, however quick (a
        modification time can repeat within the clock's tick; the files are small)."""
        files = [self.root / WORKSPACE_FILE, *map_files(self.root), *extra]
        found = []
        for file in files:
            try:
                digest = hashlib.blake2b(file.read_bytes(), digest_size=16).hexdigest()
            except FileNotFoundError:
                continue
            found.append((str(file), digest))
        return tuple(found)

    def validate(self, paths: Sequence[Path] | None = None) -> list[Issue]:
        """Every issue in the workspace's files (maps, ``journeylens.yaml``, surveys), or in
        ``paths`` only."""
        surveys_dir = (self.root / SURVEYS_DIR).resolve()
        survey_paths = [p for p in paths or [] if p.resolve().parent == surveys_dir]
        others = [p for p in paths or [] if p not in survey_paths]
        if paths is None:
            issues = self.check().issues
        else:
            issues = self.check(others).issues if others else []
        if paths is None or survey_paths:
            try:
                checked = self.check_surveys(survey_paths if paths is not None else None)
            except ValidationError:  # the workspace file itself is broken: reported above
                checked = []
            issues.extend(i for c in checked for i in c.issues)
        return sorted(issues)

    def _valid_check(self) -> WorkspaceCheck:
        check = self.check()
        if check.workspace.model is None or check.workspace.issues:
            errors = [i for i in check.workspace.issues if i.severity == "error"]
            if check.workspace.model is None or errors:
                raise ValidationError(check.workspace.issues)
        return check

    @property
    def settings(self) -> WorkspaceFile:
        """The validated ``journeylens.yaml``; raises :class:`ValidationError` if invalid.

        Read through the cached check (parsing YAML is slow; the file rarely changes): treat
        it as read-only and change a deep copy."""
        loaded = self.check().workspace
        if loaded.model is None or any(i.severity == "error" for i in loaded.issues):
            raise ValidationError(loaded.issues)
        return loaded.model

    def save_persona(self, persona: Persona) -> None:
        """Replace the persona with ``persona.id`` in ``journeylens.yaml``, keeping the file's
        comments and layout; refused (the file left as it was) with a :class:`ValidationError`
        when the workspace would have errors (an unknown channel, say), or a
        :class:`WorkspaceError` when there is no such persona."""
        loaded = load_workspace_file(self.root)
        settings = self.settings
        ids = [p.id for p in settings.personas]
        if persona.id not in ids:
            raise WorkspaceError(
                f"no persona {persona.id!r} (personas: {', '.join(ids) or 'none'})"
            )
        before = loaded.path.read_text(encoding="utf-8")
        updated = settings.model_copy(deep=True)
        updated.personas = [persona if p.id == persona.id else p for p in updated.personas]
        save_document(loaded, updated)
        errors = [i for i in self.validate([loaded.path]) if i.severity == "error"]
        if errors:
            loaded.path.write_text(before, encoding="utf-8")
            raise ValidationError(errors)

    def maps(self) -> list[JourneyMap]:
        """Every valid map; invalid ones are left out (``validate`` says why)."""
        return [m.model for m in self.check().maps if m.model is not None]

    def _loaded_map(self, ref: str) -> Loaded[JourneyMap]:
        check = self._valid_check()
        as_path = Path(ref)
        for loaded in check.maps:
            tree_id = loaded.tree.get("id") if isinstance(loaded.tree, dict) else None
            if tree_id == ref or (as_path.suffix and loaded.path.resolve() == as_path.resolve()):
                if loaded.model is None:
                    raise ValidationError(loaded.issues)
                return loaded
        if as_path.suffix and as_path.is_file():
            extra = self.check([as_path]).maps
            if extra and extra[0].model is not None:
                return extra[0]
            if extra:
                raise ValidationError(extra[0].issues)
        known = ", ".join(
            sorted(str(m.tree.get("id")) for m in check.maps if isinstance(m.tree, dict))
        )
        raise WorkspaceError(f"no map {ref!r} in {self.root} (maps: {known or 'none'})")

    def map(self, ref: str) -> JourneyMap:
        """A map by id (``current-state``) or by file path."""
        model = self._loaded_map(ref).model
        assert model is not None
        return model

    def save_map(self, journey_map: JourneyMap, path: Path | None = None) -> Path:
        """Write a map, keeping the comments and key order of the file it came from."""
        try:
            loaded = self._loaded_map(journey_map.id)
        except WorkspaceError:
            target = path or self.root / MAPS_DIR / f"{journey_map.id}.yaml"
            write_yaml(target, merge_into(None, document_data(journey_map)))
            return target
        save_document(loaded, journey_map)
        return loaded.path

    @property
    def state_dir(self) -> Path:
        """``.journeylens/``: the store, prepared journeys and the web app's accounts."""
        return self.root / database.STORE_DIR

    def map_text(self, ref: str) -> tuple[Path, str]:
        """The map's file and its YAML text, as the team wrote it."""
        loaded = self._loaded_map(ref)
        return loaded.path, loaded.path.read_text(encoding="utf-8")

    def replace_map_text(self, ref: str, text: str) -> JourneyMap:
        """Replace a map's file with ``text`` if it is a valid map with the same id.

        The text is checked as a draft file (its references resolve against the workspace's
        registries) and only then moved over the map: a rejected edit leaves it untouched."""
        path, _ = self.map_text(ref)
        drafts = self.root / database.STORE_DIR / "drafts"
        drafts.mkdir(parents=True, exist_ok=True)
        draft = drafts / f"{path.stem}.{os.getpid()}.yaml"
        draft.write_text(text, encoding="utf-8")
        try:
            checked = check_workspace(self.root, [draft], instead=(path, draft))
            loaded = next((m for m in checked.maps if m.path.resolve() == draft.resolve()), None)
            issues = [
                i for i in (loaded.issues if loaded else checked.issues) if i.severity == "error"
            ]
            if loaded is None or loaded.model is None or issues:
                raise ValidationError(issues or checked.issues)
            if loaded.model.id != ref and loaded.model.id != self.map(ref).id:
                raise WorkspaceError(
                    f"the edited map's id is {loaded.model.id!r}, not {ref!r}: ids are stable"
                )
            draft.replace(path)
            return loaded.model
        finally:
            draft.unlink(missing_ok=True)

    # -- rendering -------------------------------------------------------------------------------
    def render_svg(self, ref: str) -> str:
        return render_svg(self.map(ref), self.settings)

    def render(self, ref: str, output: Path, fmt: str | None = None) -> Path:
        """Draw one map into ``output``; the format comes from ``fmt`` or the suffix."""
        return self.render_many([(ref, output, output_format(output, fmt))])[0]

    def live_svg(
        self,
        journey_map: JourneyMap,
        measured: LiveMap,
        pains: PainPoints,
        checked: Conformance | None = None,
    ) -> str:
        """A measured map drawn with its data lanes (SVG text)."""
        return render_svg(
            journey_map, self.settings, live=measured, pains=pains, conformance=checked
        )

    def render_live(
        self,
        spec: LiveSpec,
        output: Path,
        fmt: str | None = None,
        *,
        engine: EngineName = "duckdb",
        **options: Any,
    ) -> tuple[Path, LiveMap, PainPoints]:
        """Draw a map with its data lanes (measured on the store now) into ``output``."""
        measured, pains, checked = self.live_with_conformance(spec, engine=engine, **options)
        svg = render_svg(
            spec.journey_map, self.settings, live=measured, pains=pains, conformance=checked
        )
        chosen = output_format(output, fmt)
        if chosen in ("png", "pdf"):
            from journeylens.render.raster import Rasterizer

            with Rasterizer() as raster:
                path = self._write((spec.journey_map, svg), output, chosen, raster, self.settings)
        else:
            path = self._write((spec.journey_map, svg), output, chosen, None, self.settings)
        return path, measured, pains

    def render_many(self, jobs: Iterable[tuple[str, Path, OutputFormat]]) -> list[Path]:
        """Draw several maps, starting the browser once if any PNG or PDF is asked for."""
        jobs = list(jobs)
        settings = self.settings
        drawn: dict[str, tuple[JourneyMap, str]] = {}
        for ref, _, _ in jobs:
            if ref not in drawn:
                model = self.map(ref)
                drawn[ref] = (model, render_svg(model, settings))
        needs_browser = any(fmt in ("png", "pdf") for _, _, fmt in jobs)
        written: list[Path] = []
        if needs_browser:
            from journeylens.render.raster import Rasterizer

            with Rasterizer() as raster:
                for ref, output, fmt in jobs:
                    written.append(self._write(drawn[ref], output, fmt, raster, settings))
        else:
            for ref, output, fmt in jobs:
                written.append(self._write(drawn[ref], output, fmt, None, settings))
        return written

    @staticmethod
    def _write(
        drawing: tuple[JourneyMap, str],
        output: Path,
        fmt: OutputFormat,
        raster: object,
        settings: WorkspaceFile,
    ) -> Path:
        model, svg = drawing
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "svg":
            output.write_text(svg, encoding="utf-8")
        elif fmt == "html":
            html = render_html(model, svg, fallback_language=settings.workspace.default_language)
            output.write_text(html, encoding="utf-8")
        else:
            from journeylens.render.raster import Rasterizer

            assert isinstance(raster, Rasterizer)
            output.write_bytes(raster.png(svg) if fmt == "png" else raster.pdf(svg))
        return output

    def invalid_maps(self) -> list[tuple[str, list[Issue]]]:
        """Map files that cannot be rendered, with their errors."""
        return [
            (m.display, [i for i in m.issues if i.severity == "error"])
            for m in self.check().maps
            if m.model is None
        ]

    def render_all(self, outdir: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
        """Every valid map in every format, named ``<map id>.<format>``.

        Invalid maps are left out; :meth:`invalid_maps` says which and why.
        """
        chosen = [output_format(Path(f"x.{f}")) for f in formats]
        jobs = [(m.id, outdir / f"{m.id}.{fmt}", fmt) for m in self.maps() for fmt in chosen]
        return self.render_many(jobs)

    # -- interchange -------------------------------------------------------------------------------
    @staticmethod
    def schema(kind: SchemaKind = "map") -> str:
        return json_schema_text(kind)

    def export_mermaid(self, ref: str) -> str:
        return export_mermaid(self.map(ref), self.settings)

    def import_mermaid(
        self,
        source: Path,
        *,
        map_id: str | None = None,
        language: str | None = None,
        force: bool = False,
    ) -> tuple[Path, list[str], list[Issue]]:
        """Create a map from a Mermaid file; actors not in the registry become personas."""
        loaded = load_workspace_file(self.root)
        settings = self.settings
        result = import_mermaid(
            source.read_text(encoding="utf-8"),
            file=str(source),
            map_id=map_id or _stem_id(source),
            language=language or settings.workspace.default_language,
            workspace=settings,
        )
        target = self.root / MAPS_DIR / f"{result.journey_map.id}.yaml"
        if target.exists() and not force:
            raise WorkspaceError(f"{target} already exists (use --force or --id)")
        if result.new_personas:
            updated = settings.model_copy(deep=True)
            updated.personas = [*updated.personas, *result.new_personas]
            save_document(loaded, updated)
        write_yaml(target, merge_into(None, document_data(result.journey_map)))
        return target, [p.id for p in result.new_personas], result.warnings


def _stem_id(path: Path) -> str | None:
    stem = path.name.split(".")[0]
    value = slug(stem, "")
    return value or None
