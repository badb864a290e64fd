"""Segments: customers clustered by how their journeys go, each with a readable description.

Personas are written from research; segments are found in the data, so a team can check a
persona against real groups ("mobile shoppers who reach checkout but rarely convert") and
give it real members. Customers are described by their journey features
(:mod:`journeylens.analyses.features`): channels used, stage reached, events, active days,
duration, contacts, satisfaction, value and main device. Counts and durations are taken as
``log(1 + x)`` and every input is standardised, so no unit dominates.

k-means (k-means++ starts, several seeded restarts, Lloyd iterations) in NumPy; ``k`` is
fixed or chosen in ``k_range`` by the mean silhouette on a seeded sample. Above
``max_customers`` the centroids are fitted on a seeded sample and then every customer is
assigned to the nearest one, so all customers get a segment. Same data and seed, same
segments, numbered by size.

A segment is not an event selector, so it cannot be a persona's ``segment``; its members are a
list of customer keys instead: :func:`segment_members` (Arrow) and :func:`write_members`
(Parquet), which any engine reads and semi-joins (see ``docs/drivers-and-segments.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from journeylens.analyses.binding import Scope
from journeylens.analyses.common import plain
from journeylens.analyses.features import (
    CONTACT_KINDS,
    DAY,
    FeaturePlan,
    FeaturesSpec,
    features,
)
from journeylens.engine import Journeys
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Shape = Literal["log", "plain"]
#: Numeric journey features: column, label, how it is shaped for distance.
NUMERIC: tuple[tuple[str, str, Shape], ...] = (
    ("events", "events", "log"),
    ("active_days", "active days", "log"),
    ("duration_days", "journey duration (days)", "log"),
    ("contacts", "contacts", "log"),
    ("satisfaction", "satisfaction", "plain"),
    ("value", "value", "log"),
)
#: How a numeric trait reads: (more, fewer) clauses with {r} for the ratio, label words.
_WORDING: dict[str, tuple[str, str, str, str]] = {
    "events": (
        "{r} more events than average",
        "{r} fewer events than average",
        "many events",
        "few events",
    ),
    "active_days": (
        "{r} more active days than average",
        "{r} fewer active days than average",
        "frequent",
        "one-off",
    ),
    "duration_days": (
        "journeys {r} longer than average",
        "journeys {r} shorter than average",
        "long journeys",
        "short journeys",
    ),
    "contacts": (
        "{r} more contacts than average",
        "{r} fewer contacts than average",
        "many contacts",
        "few contacts",
    ),
    "value": (
        "{r} more value than average",
        "{r} less value than average",
        "high value",
        "low value",
    ),
    "satisfaction": ("higher satisfaction", "lower satisfaction", "satisfied", "dissatisfied"),
}


@dataclass(frozen=True)
class SegmentsSpec:
    """``k`` fixes the number of segments, else the best silhouette in ``k_range`` wins;
    ``outcome``, ``inactive`` and ``retention`` only describe segments (conversion and churn
    rates), they are not clustered on."""

    journey_map: JourneyMap | None = None
    scope: Scope = field(default_factory=Scope)
    gap: float | None = None
    outcome: str | None = None
    inactive: float | None = 90 * DAY
    retention: str | None = None
    as_of: datetime | None = None
    contact_channels: tuple[str, ...] = CONTACT_KINDS
    k: int | None = None
    k_range: tuple[int, int] = (3, 7)
    seed: int = 0
    restarts: int = 4
    max_customers: int = 200_000
    silhouette_sample: int = 2_000
    max_devices: int = 5


@dataclass(frozen=True)
class Trait:
    """One feature of a segment against everyone: ``mean`` (a share for 0/1 features),
    ``overall``, ``ratio`` = mean / overall, ``z`` = difference in overall standard
    deviations (what the description ranks by)."""

    feature: str
    label: str
    mean: float | None
    overall: float | None
    ratio: float | None
    z: float | None


@dataclass(frozen=True)
class Segment:
    id: int
    label: str
    description: str
    size: int
    share: float
    customers: int
    centroid: tuple[float, ...]
    profile: tuple[Trait, ...]


@dataclass(frozen=True)
class KScore:
    k: int
    silhouette: float


@dataclass(frozen=True)
class Segments:
    """``centroid`` values are in standardised ``inputs`` units; ``assignments`` (not in
    ``to_dict()``) has ``journey``, ``customer_key`` and ``segment`` for every row."""

    unit: Literal["customer", "journey"]
    k: int
    chosen_by: Literal["fixed", "silhouette"]
    scores: tuple[KScore, ...]
    rows: int
    fitted: int
    sampled: bool
    seed: int
    inputs: tuple[str, ...]
    dropped_inputs: tuple[str, ...]
    segments: tuple[Segment, ...]
    warnings: tuple[str, ...]
    assignments: pa.Table = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = {f: plain(getattr(self, f)) for f in self.__dataclass_fields__ if f != "assignments"}
        return data


def _check(spec: SegmentsSpec) -> None:
    low, high = spec.k_range
    if spec.k is not None and spec.k < 1:
        raise JourneylensError(f"segments: k must be 1 or more, got {spec.k}")
    if spec.k is None and not 2 <= low <= high:
        raise JourneylensError(f"segments: k_range must be 2 <= low <= high, got {spec.k_range}")
    if spec.restarts < 1 or spec.max_customers < 10 or spec.silhouette_sample < 10:
        raise JourneylensError("segments: restarts, max_customers and silhouette_sample too small")


def _column(table: pa.Table, name: str) -> Floats:
    """A numeric column as floats, NULL as NaN."""
    return np.asarray(
        table.column(name).cast(pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )


@dataclass(frozen=True)
class _Input:
    name: str
    label: str
    kind: Literal["numeric", "flag", "stage"]
    raw: Floats  # on the readable scale, NaN where unknown
    shaped: Floats  # what the distance uses (log, imputed), before standardising
    known: npt.NDArray[np.bool_] | None = None  # where imputed: the rows that had a value


def _inputs(table: pa.Table, plan: FeaturePlan, spec: SegmentsSpec) -> list[_Input]:
    found: list[_Input] = []
    for col in plan.of("channel"):
        used = (_column(table, col.name) > 0).astype(float)
        found.append(_Input(col.name, col.source, "flag", used, used))
    if plan.stages:
        stage = _column(table, "stage_reached")
        found.append(
            _Input("stage_reached", "stage reached", "stage", stage, np.nan_to_num(stage + 1))
        )
    for name, label, shape in NUMERIC:
        if name == "duration_days":
            raw = _column(table, "duration_s") / DAY
        else:
            raw = _column(table, name)
        if shape == "log":
            found.append(
                _Input(name, label, "numeric", raw, np.log1p(np.maximum(np.nan_to_num(raw), 0.0)))
            )
        else:
            known = ~np.isnan(raw)
            fill = float(raw[known].mean()) if known.any() else 0.0
            shaped = np.where(known, raw, fill)
            found.append(_Input(name, label, "numeric", raw, shaped, known))
    devices = table.column("device").to_pylist()
    counts: dict[str, int] = {}
    for device in devices:
        if device is not None:
            counts[device] = counts.get(device, 0) + 1
    for device, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: spec.max_devices]:
        on = np.array([d == device for d in devices], dtype=float)
        found.append(_Input(f"device={device}", device, "flag", on, on))
    return found


def _kmeans_pp(x: Floats, k: int, rng: np.random.Generator) -> Floats:
    centres = [x[int(rng.integers(len(x)))]]
    closest = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        total = float(closest.sum())
        if total <= 0:
            pick = int(rng.integers(len(x)))
        else:
            pick = int(np.searchsorted(np.cumsum(closest), rng.random() * total))
            pick = min(pick, len(x) - 1)
        centres.append(x[pick])
        closest = np.minimum(closest, np.sum((x - x[pick]) ** 2, axis=1))
    return np.array(centres)


def _nearest(x: Floats, centres: Floats, chunk: int = 65_536) -> Ints:
    """Nearest centre per row (first on ties), in chunks so memory stays flat."""
    out = np.empty(len(x), dtype=np.int64)
    norms = np.sum(centres**2, axis=1)
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk]
        dist = norms[None, :] - 2.0 * part @ centres.T
        out[start : start + chunk] = np.argmin(dist, axis=1)
    return out


def _kmeans(x: Floats, k: int, seed: int, restarts: int) -> tuple[Floats, Ints]:
    """The best (least within-cluster squared distance) of ``restarts`` seeded runs."""
    best: tuple[float, Floats, Ints] | None = None
    for run in range(restarts):
        rng = np.random.default_rng([seed, k, run])
        centres = _kmeans_pp(x, k, rng)
        labels = _nearest(x, centres)
        for _ in range(300):
            new = np.array(
                [
                    x[labels == j].mean(axis=0) if np.any(labels == j) else centres[j]
                    for j in range(k)
                ]
            )
            moved = _nearest(x, new)
            centres = new
            if np.array_equal(moved, labels):
                break
            labels = moved
        inertia = float(np.sum((x - centres[labels]) ** 2))
        if best is None or inertia < best[0] - 1e-9:
            best = (inertia, centres, labels)
    assert best is not None
    return best[1], best[2]


def _silhouette(x: Floats, labels: Ints, k: int) -> float:
    """Mean silhouette (Rousseeuw 1987): how much closer points are to their own cluster
    than to the next one; a point alone in its cluster scores 0."""
    sq = np.sum(x**2, axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0))
    onehot = np.eye(k)[labels]
    sizes = onehot.sum(axis=0)
    sums = dist @ onehot
    own = sizes[labels]
    a = np.where(own > 1, sums[np.arange(len(x)), labels] / np.maximum(own - 1, 1), 0.0)
    other = np.where(onehot > 0, np.inf, sums / np.maximum(sizes, 1)[None, :])
    other[:, sizes == 0] = np.inf
    b = other.min(axis=1)
    score = np.where((own > 1) & np.isfinite(b), (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(score.mean())


def _mean(values: Floats) -> float | None:
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else None


def _profile(
    inputs: list[_Input], extra: list[tuple[str, str, Floats]], members: npt.NDArray[np.bool_]
) -> tuple[Trait, ...]:
    traits = []
    columns = [(i.name, i.label, i.raw) for i in inputs] + extra
    for name, label, raw in columns:
        mean, overall = _mean(raw[members]), _mean(raw)
        known = raw[~np.isnan(raw)]
        spread = float(known.std()) if known.size else 0.0
        ratio = None if mean is None or not overall else mean / overall
        z = None if mean is None or overall is None or spread == 0 else (mean - overall) / spread
        traits.append(
            Trait(
                name,
                label,
                None if mean is None else round(mean, 6),
                None if overall is None else round(overall, 6),
                None if ratio is None else round(ratio, 6),
                None if z is None else round(z, 6),
            )
        )
    return tuple(traits)


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2g}"


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×"


def _phrase(trait: Trait, kind: str, stages: tuple[str, ...]) -> tuple[str, str]:
    """A description clause and a short label word for a distinguishing trait."""
    assert trait.mean is not None and trait.overall is not None and trait.z is not None
    high = trait.z > 0
    mean, overall = trait.mean, trait.overall
    if kind == "stage":
        at = stages[min(max(round(mean), 0), len(stages) - 1)] if stages else str(round(mean))
        word = "further along" if high else "early leavers"
        return (
            f"typically reach stage “{at}” (mean stage {mean + 1:.1f} vs {overall + 1:.1f})",
            word,
        )
    if kind == "outcome":
        verb = {"converted": "convert", "churned": "churn"}[trait.feature]
        how = "often" if high else "rarely"
        word = {"converted": ("converters", "non-converters"), "churned": ("churners", "loyal")}[
            trait.feature
        ][0 if high else 1]
        return f"{how} {verb} ({mean:.0%} vs {overall:.0%} overall)", word
    if kind == "flag":
        device = trait.feature.startswith("device=")
        if high:
            clause = (
                f"mostly on {trait.label} ({mean:.0%} vs {overall:.0%})"
                if device
                else f"use {trait.label} ({mean:.0%} vs {overall:.0%})"
            )
            return clause, trait.label if device else f"{trait.label} users"
        clause = (
            f"seldom on {trait.label} ({mean:.0%} vs {overall:.0%})"
            if device
            else f"rarely use {trait.label} ({mean:.0%} vs {overall:.0%})"
        )
        return clause, f"no {trait.label}"
    more, fewer, high_word, low_word = _WORDING[trait.feature]
    ratio = trait.ratio
    if trait.feature != "satisfaction" and ratio is not None and ratio > 0:
        clause = more.format(r=_times(ratio)) if high else fewer.format(r=_times(1 / ratio))
    elif trait.feature != "satisfaction" and mean == 0:
        clause = f"no {trait.label} (average {_num(overall)})"
    else:
        clause = f"{more if high else fewer} ({_num(mean)} vs {_num(overall)})"
    return clause, high_word if high else low_word


def _describe(
    profile: tuple[Trait, ...], kinds: dict[str, str], stages: tuple[str, ...]
) -> tuple[str, str]:
    ranked = sorted(
        (t for t in profile if t.z is not None and abs(t.z) >= 0.25),
        key=lambda t: (-abs(t.z or 0.0), t.feature),
    )
    # "Mostly on mobile" already says "seldom on desktop".
    if any(t.feature.startswith("device=") and (t.z or 0) > 0 for t in ranked[:4]):
        ranked = [t for t in ranked if not (t.feature.startswith("device=") and (t.z or 0) < 0)]
    if not ranked:
        return "Close to the average customer on every feature.", "typical"
    phrases = [_phrase(t, kinds[t.feature], stages) for t in ranked[:4]]
    stage = next((t for t in profile if kinds[t.feature] == "stage" and t.mean is not None), None)
    clauses = [p[0] for p in phrases]
    if stage is not None and all(t.feature != "stage_reached" for t in ranked[:4]):
        clauses.insert(0, _phrase(_with_z(stage), "stage", stages)[0].split(" (")[0])
    text = "; ".join(clauses)
    label = " · ".join(p[1] for p in phrases[:2])
    return text[0].upper() + text[1:] + ".", label


def _with_z(trait: Trait) -> Trait:
    return Trait(trait.feature, trait.label, trait.mean, trait.overall, trait.ratio, trait.z or 0.0)


def segments(journeys: Journeys, spec: SegmentsSpec) -> Segments:
    _check(spec)
    result = features(
        journeys,
        FeaturesSpec(
            journey_map=spec.journey_map,
            scope=spec.scope,
            gap=spec.gap,
            outcome=spec.outcome,
            inactive=spec.inactive,
            retention=spec.retention,
            as_of=spec.as_of,
            contact_channels=spec.contact_channels,
        ),
    )
    table, plan = result.table, result.plan
    n = table.num_rows
    warnings: list[str] = []
    if n == 0:
        raise JourneylensError("segments: no customers in scope")
    inputs = _inputs(table, plan, spec)
    dropped = [i.name for i in inputs if float(np.std(i.shaped)) == 0.0]
    inputs_used = [i for i in inputs if i.name not in dropped]
    if not inputs_used:
        raise JourneylensError("segments: every feature is the same for all customers")
    shaped = np.column_stack([i.shaped for i in inputs_used])

    rng = np.random.default_rng(spec.seed)
    sampled = n > spec.max_customers
    fit_rows = (
        np.sort(rng.choice(n, spec.max_customers, replace=False)) if sampled else np.arange(n)
    )
    centre, spread = shaped[fit_rows].mean(axis=0), shaped[fit_rows].std(axis=0)
    for j, item in enumerate(inputs_used):
        if item.known is not None:
            # Imputed means shrink the spread: scale by the customers who had a value, so a
            # score few customers gave does not outweigh everything else.
            had = item.shaped[fit_rows][item.known[fit_rows]]
            spread[j] = float(had.std()) if had.size else 0.0
    spread[spread == 0] = 1.0
    x = (shaped - centre) / spread
    fit = x[fit_rows]
    if sampled:
        warnings.append(
            f"centroids fitted on a seeded random sample of {len(fit_rows)} of {n} {plan.unit}s; "
            "every one is assigned"
        )
    distinct = len(np.unique(fit, axis=0))
    scores: list[KScore] = []
    if spec.k is not None:
        k = min(spec.k, distinct)
        if k < spec.k:
            warnings.append(f"only {distinct} distinct {plan.unit}s: k lowered to {k}")
        centres, _ = _kmeans(fit, k, spec.seed, spec.restarts)
        chosen: Literal["fixed", "silhouette"] = "fixed"
    else:
        low, high = spec.k_range
        high = min(high, distinct)
        if high < low:
            raise JourneylensError(
                f"segments: {distinct} distinct {plan.unit}s are too few for k in {spec.k_range}"
            )
        probe = (
            np.sort(rng.choice(len(fit), spec.silhouette_sample, replace=False))
            if len(fit) > spec.silhouette_sample
            else np.arange(len(fit))
        )
        best: tuple[float, int, Floats] | None = None
        for kk in range(low, high + 1):
            cents, labels = _kmeans(fit, kk, spec.seed, spec.restarts)
            score = _silhouette(fit[probe], labels[probe], kk)
            scores.append(KScore(kk, round(score, 6)))
            if best is None or score > best[0] + 1e-9:
                best = (score, kk, cents)
        assert best is not None
        k, centres, chosen = best[1], best[2], "silhouette"

    labels = _nearest(x, centres)
    sizes = np.bincount(labels, minlength=k)
    # Number segments by size (largest first), ties by centroid, so ids are stable.
    order = sorted(range(k), key=lambda j: (-int(sizes[j]), tuple(np.round(centres[j], 9))))
    renumber = np.empty(k, dtype=np.int64)
    for new, old in enumerate(order):
        renumber[old] = new
    labels = renumber[labels]
    centres = centres[order]

    extra: list[tuple[str, str, Floats]] = []
    kinds: dict[str, str] = {i.name: i.kind for i in inputs_used}
    for name in ("converted", "churned"):
        column = table.column(name)
        if column.null_count < len(column):
            extra.append((name, name, _column(table, name)))
            kinds[name] = "outcome"
    keys = table.column("customer_key")
    found: list[Segment] = []
    names_used: dict[str, int] = {}
    for j in range(k):
        members = labels == j
        profile = _profile(inputs_used, extra, members)
        description, label = _describe(profile, kinds, plan.stages)
        names_used[label] = names_used.get(label, 0) + 1
        if names_used[label] > 1:
            label = f"{label} ({names_used[label]})"
        found.append(
            Segment(
                id=j,
                label=label,
                description=description,
                size=int(members.sum()),
                share=round(float(members.mean()), 6),
                customers=len(pc.unique(keys.filter(pa.array(members)))),
                centroid=tuple(round(float(v), 6) + 0.0 for v in centres[j]),
                profile=profile,
            )
        )
    assignments = pa.table(
        {
            "journey": table.column("journey"),
            "customer_key": keys,
            "segment": pa.array(labels, pa.int64()),
        }
    )
    return Segments(
        unit=plan.unit,
        k=k,
        chosen_by=chosen,
        scores=tuple(scores),
        rows=n,
        fitted=len(fit_rows),
        sampled=sampled,
        seed=spec.seed,
        inputs=tuple(i.name for i in inputs_used),
        dropped_inputs=tuple(dropped),
        segments=tuple(found),
        warnings=tuple(warnings),
        assignments=assignments,
    )


def _segment_id(result: Segments, segment: int | str) -> int:
    for seg in result.segments:
        if segment in (seg.id, seg.label):
            return seg.id
    known = ", ".join(f"{s.id} ({s.label})" for s in result.segments)
    raise JourneylensError(f"no segment {segment!r}: expected one of {known}")


def segment_members(result: Segments, segment: int | str) -> pa.Table:
    """The segment's customers (by id or label) as a one-column ``customer_key`` table,
    sorted: a semi-join table for any engine. With ``gap`` a customer is a member when any
    of their journeys is in the segment."""
    wanted = _segment_id(result, segment)
    rows = result.assignments.filter(pc.equal(result.assignments.column("segment"), wanted))
    keys = pc.unique(rows.column("customer_key"))
    return pa.table({"customer_key": keys.take(pc.sort_indices(keys))})


def write_members(result: Segments, segment: int | str, path: Path) -> Path:
    """Write :func:`segment_members` to Parquet (``engine.read_parquet`` reads it back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(segment_members(result, segment), path)
    return path


__all__ = [
    "KScore",
    "Segment",
    "Segments",
    "SegmentsSpec",
    "Trait",
    "segment_members",
    "segments",
    "write_members",
]
