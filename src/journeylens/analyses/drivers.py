"""Drivers: which channels, touchpoints, devices and attributes go with more or less conversion
(or churn), with 95% confidence intervals, controlling for journey length.

A CX lead wants "customers who called us convert less", with how sure we are. Long journeys
touch more channels *and* convert more, so a raw comparison would credit every channel with
the effect of length: each driver is fitted in a logistic regression with ``log(1 + events)``
as a covariate (``adjust="length"``, one small model per driver), or all drivers together
(``adjust="all"``). The fit is our own Newton/IRLS in NumPy on the per-customer features
(:mod:`journeylens.analyses.features`); Wald intervals, two-sided p-values and
Benjamini–Hochberg q-values for the many drivers tested at once.

For conversion, features count only events *before* the journey's first conversion: what a
customer does after buying (the confirmation e-mail, a delivery question) is a consequence, not
a driver. Channels, touchpoints and attribute values named by the outcome selector (and the
map's outcome step's touchpoint) are left out as trivially implying it, and said so.

Guard rails, all reported in the result: a driver needs ``min_support`` customers with it and
without it; drivers that cover exactly the same customers as an earlier one, or that are
collinear with journey length (or with the other drivers, with ``adjust="all"``) are dropped;
complete separation (everyone with the driver converted, say) gives no estimate but a flag; a
skewed outcome or small cells give warnings. Above ``max_customers`` the fit uses a seeded
random sample of customers, and the result says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from journeylens.analyses.binding import Scope, bound_steps, outcome_step
from journeylens.analyses.common import plain
from journeylens.analyses.features import (
    CONTACT_KINDS,
    DAY,
    FeaturePlan,
    FeaturesSpec,
    feature_expression,
)
from journeylens.engine import Journeys
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap
from journeylens.model.selector import And, Compare, In, Not, Or, Selector, parse_selector

Target = Literal["converted", "churned"]
DriverKind = Literal["channel", "touchpoint", "device", "attribute", "contact"]
DRIVER_KINDS: tuple[DriverKind, ...] = ("channel", "touchpoint", "device", "attribute", "contact")
Z95 = 1.959963984540054
#: A coefficient this large (odds ratio beyond e^±15) only comes from (quasi-)separation.
_HUGE = 15.0

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DriversSpec:
    """``target`` is what to explain; ``outcome``/``inactive``/``retention``/``as_of`` define it
    as in :class:`~journeylens.analyses.features.FeaturesSpec`. ``population="converted"`` fits
    churn among converted customers only. ``adjust`` is ``"length"`` (one model per driver with
    log events) or ``"all"`` (one model with every driver)."""

    journey_map: JourneyMap | None = None
    scope: Scope = field(default_factory=Scope)
    gap: float | None = None
    outcome: str | None = None
    target: Target = "converted"
    inactive: float | None = 90 * DAY
    retention: str | None = None
    as_of: datetime | None = None
    population: Literal["all", "converted"] = "all"
    kinds: tuple[DriverKind, ...] = DRIVER_KINDS
    contact_channels: tuple[str, ...] = CONTACT_KINDS
    attributes: tuple[str, ...] = ()
    adjust: Literal["length", "all"] = "length"
    min_support: int = 30
    max_levels: int = 20
    max_touchpoints: int = 30
    max_customers: int = 500_000
    seed: int = 0


@dataclass(frozen=True)
class Driver:
    """One driver: ``support`` customers have it; ``rate_with``/``rate_without`` are the raw
    target rates; the odds ratio and its interval are adjusted (None under separation)."""

    kind: DriverKind
    feature: str
    label: str
    odds_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None
    support: int
    rate_with: float
    rate_without: float
    effect: Literal["raises", "lowers", "unclear"]
    flags: tuple[str, ...]
    sentence: str


@dataclass(frozen=True)
class Left:
    """A candidate driver that was not fitted, and why."""

    kind: DriverKind
    feature: str
    label: str
    reason: str


@dataclass(frozen=True)
class Drivers:
    target: Target
    outcome: str | None
    unit: Literal["customer", "journey"]
    adjust: Literal["length", "all"]
    covariate: str
    before_outcome: bool
    population: int
    fitted: int
    sampled: bool
    seed: int
    target_rate: float | None
    drivers: tuple[Driver, ...]
    excluded: tuple[Left, ...]
    dropped: tuple[Left, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Candidate:
    kind: DriverKind
    feature: str
    label: str
    subject: str
    values: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class _Fit:
    beta: Floats
    cov: Floats | None
    converged: bool


def _check(spec: DriversSpec) -> None:
    if spec.target not in ("converted", "churned"):
        raise JourneylensError(f"drivers: target must be converted or churned, not {spec.target}")
    if spec.adjust not in ("length", "all"):
        raise JourneylensError(f"drivers: adjust must be length or all, not {spec.adjust}")
    unknown = [k for k in spec.kinds if k not in DRIVER_KINDS]
    if unknown:
        raise JourneylensError(f"drivers: unknown kinds {unknown}; expected {DRIVER_KINDS}")
    if spec.min_support < 1:
        raise JourneylensError("drivers: min_support must be 1 or more")
    if spec.max_customers < 100:
        raise JourneylensError("drivers: max_customers must be at least 100")


def _named(selector: Selector) -> set[tuple[str, str]]:
    """(field, value) pairs a selector requires positively: ``channel == "x"``, ``touchpoint in
    [...]``, ``attr.k == "v"``; what sits under ``not`` is left alone."""
    if isinstance(selector, And | Or):
        found: set[tuple[str, str]] = set()
        for item in selector.items:
            found |= _named(item)
        return found
    if isinstance(selector, Not):
        return set()
    if isinstance(selector, Compare) and selector.op == "==":
        return {(str(selector.field), _text(selector.value))}
    if isinstance(selector, In) and not selector.negated:
        return {(str(selector.field), _text(v)) for v in selector.values}
    return set()


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _implied(spec: DriversSpec, plan: FeaturePlan) -> set[tuple[str, str]]:
    """What trivially implies the target: the fields its selector names, and for the map's
    own outcome, the outcome step's touchpoint."""
    selector = plan.outcome if spec.target == "converted" else plan.retention
    implied = _named(parse_selector(selector)) if selector else set()
    if spec.target == "converted" and spec.outcome is None and spec.journey_map is not None:
        step = outcome_step(bound_steps(spec.journey_map))
        if step is not None and step.touchpoint:
            implied.add(("touchpoint", step.touchpoint))
    return implied


def _candidates(
    spec: DriversSpec, plan: FeaturePlan, table: pa.Table, unit: str
) -> list[_Candidate]:
    """Every 0/1 driver: channels and touchpoints used, the main device, attribute values and
    any contact, in that order (the order decides which of two duplicates is kept)."""
    found: list[_Candidate] = []
    if "channel" in spec.kinds:
        for col in plan.of("channel"):
            used = _counts(table, col.name) > 0
            found.append(
                _Candidate(
                    "channel", col.name, col.source, f"{unit} who used channel “{col.source}”", used
                )
            )
    if "touchpoint" in spec.kinds:
        for col in plan.of("touchpoint"):
            used = _counts(table, col.name) > 0
            found.append(
                _Candidate(
                    "touchpoint",
                    col.name,
                    col.source,
                    f"{unit} who reached touchpoint “{col.source}”",
                    used,
                )
            )
    if "device" in spec.kinds:
        devices = table.column("device").to_pylist()
        for level in _levels(devices, spec.max_levels):
            found.append(
                _Candidate(
                    "device",
                    f"device={level}",
                    level,
                    f"{unit} mostly on device “{level}”",
                    np.array([d == level for d in devices], dtype=bool),
                )
            )
    if "attribute" in spec.kinds:
        for col in plan.of("attribute"):
            values = table.column(col.name).to_pylist()
            for level in _levels(values, spec.max_levels):
                found.append(
                    _Candidate(
                        "attribute",
                        f"{col.name}={level}",
                        f"{col.source}={level}",
                        f"{unit} with {col.source} = “{level}”",
                        np.array([v == level for v in values], dtype=bool),
                    )
                )
    if "contact" in spec.kinds and plan.contact_channels:
        contacted = _counts(table, "contacts") > 0
        via = ", ".join(plan.contact_channels)
        found.append(
            _Candidate(
                "contact",
                "contacts>0",
                f"contacted ({via})",
                f"{unit} who contacted you ({via})",
                contacted,
            )
        )
    return found


def _counts(table: pa.Table, name: str) -> npt.NDArray[np.int64]:
    return np.asarray(table.column(name).fill_null(0).to_numpy(zero_copy_only=False), np.int64)


def _levels(values: list[Any], most: int) -> list[str]:
    """The most common values, then by name: a categorical becomes one 0/1 per level."""
    counts: dict[str, int] = {}
    for value in values:
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    return [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:most]


def _logit(x: Floats, y: Floats, max_iter: int = 100) -> _Fit:
    """Maximum likelihood by Newton's method (IRLS) with step halving; the covariance is the
    inverse Fisher information at the estimate."""
    beta = np.zeros(x.shape[1])

    def loglik(b: Floats) -> float:
        eta = np.clip(x @ b, -50.0, 50.0)
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    current = loglik(beta)
    converged = False
    info: Floats | None = None
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -50.0, 50.0)))
        w = np.maximum(p * (1.0 - p), 1e-12)
        info = (x * w[:, None]).T @ x
        try:
            step = np.linalg.solve(info, x.T @ (y - p))
        except np.linalg.LinAlgError:
            return _Fit(beta, None, False)
        scale = 1.0
        while scale > 1e-6:
            trial = beta + scale * step
            value = loglik(trial)
            if value >= current - 1e-12:
                break
            scale /= 2
        beta, previous, current = trial, current, value
        # R's glm rule on the deviance: a coefficient running off to infinity (separation,
        # judged per driver by the caller) does not keep the others from converging.
        if abs(current - previous) / (abs(current) + 0.1) < 1e-10:
            converged = True
            break
    p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -50.0, 50.0)))
    info = (x * np.maximum(p * (1.0 - p), 1e-12)[:, None]).T @ x
    try:
        cov = np.asarray(np.linalg.inv(info), dtype=np.float64)
    except np.linalg.LinAlgError:
        return _Fit(beta, None, converged)
    return _Fit(beta, cov, converged)


def _independent(columns: Floats, base: Floats, tol: float = 1e-8) -> list[bool]:
    """Which columns add a direction not spanned by ``base`` and the columns kept before them
    (greedy, on the Gram matrix of centred columns: one pass over the data)."""
    full = np.hstack([base, columns])
    centred = full - full.mean(axis=0)
    gram = centred.T @ centred
    kept = list(range(base.shape[1]))
    flags = []
    for j in range(base.shape[1], full.shape[1]):
        own = gram[j, j]
        if own <= 0:
            flags.append(False)
            continue
        if kept:
            sub = gram[np.ix_(kept, kept)]
            cross = gram[kept, j]
            residual = own - cross @ np.linalg.lstsq(sub, cross, rcond=None)[0]
        else:
            residual = own
        ok = residual > tol * own
        flags.append(bool(ok))
        if ok:
            kept.append(j)
    return flags


def _bh(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = running
    return q


def _number(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _sentence(
    candidate: _Candidate,
    target: Target,
    adjust: str,
    estimate: tuple[float, float, float] | None,
    rates: tuple[float, float],
    support: int,
) -> str:
    gerund, past = ("converting", "converted") if target == "converted" else ("churning", "churned")
    control = {
        "length": ", controlling for journey length",
        "all": ", controlling for journey length and the other drivers",
        "none": "",
        "others": ", controlling for the other drivers",
    }[adjust]
    shares = f"{rates[0]:.0%} {past} vs {rates[1]:.0%} of the others"
    if estimate is None:
        return (
            f"{candidate.subject}: {shares} (all {support} alike), so the odds ratio cannot be "
            f"estimated (separation)."
        )
    ratio, low, high = estimate
    unclear = ", not distinguishable from no effect" if low <= 1.0 <= high else ""
    return (
        f"{candidate.subject} have {_number(ratio)}× the odds of {gerund} "
        f"(95% CI {_number(low)}–{_number(high)}{unclear}){control}; {shares}."
    )


def _sample(table: pa.Table, spec: DriversSpec) -> tuple[pa.Table, bool]:
    """A seeded random subset of rows (the table is sorted by journey, so it is repeatable)."""
    if table.num_rows <= spec.max_customers:
        return table, False
    rng = np.random.default_rng(spec.seed)
    rows = np.sort(rng.choice(table.num_rows, size=spec.max_customers, replace=False))
    return table.take(pa.array(rows)), True


def drivers(journeys: Journeys, spec: DriversSpec) -> Drivers:
    _check(spec)
    conversion = spec.target == "converted"
    fspec = FeaturesSpec(
        journey_map=spec.journey_map,
        scope=spec.scope,
        gap=spec.gap,
        outcome=spec.outcome,
        inactive=spec.inactive,
        retention=spec.retention,
        as_of=spec.as_of,
        contact_channels=spec.contact_channels,
        attributes=spec.attributes,
        max_touchpoints=spec.max_touchpoints,
        before_outcome=conversion,
    )
    expr, plan = feature_expression(journeys, fspec)
    if conversion and plan.outcome is None:
        raise JourneylensError(
            "drivers: conversion needs an outcome selector or a map with a bound conversion step"
        )
    if not conversion and spec.inactive is None and plan.retention is None:
        raise JourneylensError("drivers: churn needs inactive (seconds) or a retention selector")
    if spec.population == "converted":
        if plan.outcome is None:
            raise JourneylensError("drivers: population 'converted' needs an outcome")
        expr = expr.filter(expr.converted)
    wanted = ["journey", "events", "device", "contacts", spec.target]
    wanted += [c.name for c in plan.columns]
    full = journeys.engine.to_arrow(expr.select(*wanted))
    table, sampled = _sample(full, spec)
    unit = "Customers" if plan.unit == "customer" else "Journeys"
    warnings: list[str] = []
    if sampled:
        warnings.append(
            f"fitted on a seeded random sample of {table.num_rows} of {full.num_rows} "
            f"{plan.unit}s (seed {spec.seed})"
        )
    if plan.touchpoints_left_out:
        warnings.append(
            f"{plan.touchpoints_left_out} less used touchpoints were left out (max_touchpoints)"
        )
    y = np.asarray(table.column(spec.target).fill_null(False).to_numpy(zero_copy_only=False), float)
    n = len(y)
    length = np.log1p(_counts(table, "events").astype(float)) if n else np.zeros(0)
    positives = int(y.sum())
    covariate = "log(1 + events" + (" before the conversion)" if conversion else ")")

    def result(found: list[Driver], excluded: list[Left], dropped: list[Left]) -> Drivers:
        return Drivers(
            target=spec.target,
            outcome=plan.outcome if conversion else plan.retention,
            unit=plan.unit,
            adjust=spec.adjust,
            covariate=covariate,
            before_outcome=conversion,
            population=full.num_rows,
            fitted=n,
            sampled=sampled,
            seed=spec.seed,
            target_rate=round(positives / n, 6) if n else None,
            drivers=tuple(found),
            excluded=tuple(excluded),
            dropped=tuple(dropped),
            warnings=tuple(warnings),
        )

    if n == 0 or positives in (0, n):
        warnings.append(
            f"no {plan.unit}s to fit"
            if n == 0
            else f"every one of the {n} {plan.unit}s has "
            f"{spec.target} = {bool(positives)}: nothing to explain"
        )
        return result([], [], [])
    rare = min(positives, n - positives)
    if rare / n < 0.02:
        warnings.append(
            f"skewed outcome: {spec.target} is {positives / n:.1%}; intervals will be wide"
        )

    implied = _implied(spec, plan)
    excluded: list[Left] = []
    dropped: list[Left] = []
    kept: list[_Candidate] = []
    seen: dict[bytes, str] = {}
    for cand in _candidates(spec, plan, table, unit):
        field = {"channel": "channel", "touchpoint": "touchpoint"}.get(cand.kind)
        if cand.kind == "attribute":
            key, _, level = cand.label.partition("=")
            field, source = f"attr.{key}", level
        else:
            source = cand.label
        if field is not None and (field, source) in implied:
            excluded.append(Left(cand.kind, cand.feature, cand.label, "implies the outcome"))
            continue
        support = int(cand.values.sum())
        if min(support, n - support) < spec.min_support:
            reason = (
                "constant"
                if support in (0, n)
                else f"support {support} of {n}: under min_support {spec.min_support} "
                "with or without it"
            )
            dropped.append(Left(cand.kind, cand.feature, cand.label, reason))
            continue
        fingerprint = np.packbits(cand.values).tobytes()
        if fingerprint in seen:
            dropped.append(
                Left(
                    cand.kind, cand.feature, cand.label, f"same {plan.unit}s as {seen[fingerprint]}"
                )
            )
            continue
        complement = np.packbits(~cand.values).tobytes()
        if complement in seen:
            # mobile vs desktop: one says all the other does, with the odds ratio inverted
            dropped.append(
                Left(cand.kind, cand.feature, cand.label, f"complement of {seen[complement]}")
            )
            continue
        seen[fingerprint] = cand.feature
        kept.append(cand)

    adjusted = bool(np.ptp(length) > 0)
    wording: str = spec.adjust
    if not adjusted:
        warnings.append("every journey has the same length: nothing to control for")
        covariate = "none (every journey has the same length)"
        wording = "none" if spec.adjust == "length" else "others"
    base = np.column_stack([np.ones(n), length]) if adjusted else np.ones((n, 1))
    at_first = base.shape[1]
    if kept:
        matrix = np.column_stack([c.values.astype(float) for c in kept])
        if spec.adjust == "length":
            independent = [_independent(matrix[:, [j]], base)[0] for j in range(len(kept))]
        else:
            independent = _independent(matrix, base)
        survivors = []
        for cand, ok in zip(kept, independent, strict=True):
            if ok:
                survivors.append(cand)
            else:
                with_what = (
                    "journey length"
                    if spec.adjust == "length"
                    else ("journey length and the other drivers")
                )
                dropped.append(
                    Left(cand.kind, cand.feature, cand.label, f"collinear with {with_what}")
                )
        kept = survivors
    if spec.adjust == "all" and kept:
        params = at_first + len(kept)
        if rare < 10 * params:
            warnings.append(
                f"only {rare} {plan.unit}s in the rarer outcome for {params} parameters "
                "(under 10 per parameter): estimates are unstable"
            )
        joint = _logit(np.column_stack([base, *(c.values.astype(float) for c in kept)]), y)
        fits = [(joint, at_first + j) for j in range(len(kept))]
    else:
        fits = [
            (_logit(np.column_stack([base, c.values.astype(float)]), y), at_first) for c in kept
        ]

    rows: list[dict[str, Any]] = []
    for cand, (fit, at) in zip(kept, fits, strict=True):
        with_it = cand.values
        support = int(with_it.sum())
        rate_with = float(y[with_it].mean())
        rate_without = float(y[~with_it].mean())
        cells = (
            int(y[with_it].sum()),
            support - int(y[with_it].sum()),
            int(y[~with_it].sum()),
            (n - support) - int(y[~with_it].sum()),
        )
        flags: list[str] = []
        estimate: tuple[float, float, float] | None = None
        p_value: float | None = None
        beta = float(fit.beta[at])
        se = math.sqrt(float(fit.cov[at, at])) if fit.cov is not None else math.nan
        if min(cells) == 0 or not fit.converged or abs(beta) > _HUGE or not math.isfinite(se):
            flags.append("separation")
        else:
            estimate = (math.exp(beta), math.exp(beta - Z95 * se), math.exp(beta + Z95 * se))
            p_value = math.erfc(abs(beta / se) / math.sqrt(2.0))
            if min(cells) < 10:
                flags.append("small cell")
        rows.append(
            {
                "cand": cand,
                "estimate": estimate,
                "p": p_value,
                "support": support,
                "rates": (rate_with, rate_without),
                "flags": tuple(flags),
            }
        )
    tested = [r["p"] for r in rows if r["p"] is not None]
    q_values = iter(_bh(tested))
    found: list[Driver] = []
    for r in rows:
        cand, estimate = r["cand"], r["estimate"]
        q = next(q_values) if r["p"] is not None else None
        if estimate is None:
            effect: Literal["raises", "lowers", "unclear"] = "unclear"
        elif estimate[1] > 1.0:
            effect = "raises"
        elif estimate[2] < 1.0:
            effect = "lowers"
        else:
            effect = "unclear"
        found.append(
            Driver(
                kind=cand.kind,
                feature=cand.feature,
                label=cand.label,
                odds_ratio=None if estimate is None else round(estimate[0], 6),
                ci_low=None if estimate is None else round(estimate[1], 6),
                ci_high=None if estimate is None else round(estimate[2], 6),
                p_value=r["p"],
                q_value=q,
                support=r["support"],
                rate_with=round(r["rates"][0], 6),
                rate_without=round(r["rates"][1], 6),
                effect=effect,
                flags=r["flags"],
                sentence=_sentence(cand, spec.target, wording, estimate, r["rates"], r["support"]),
            )
        )
    separated = [d.feature for d in found if "separation" in d.flags]
    if separated:
        warnings.append(f"separation (no estimate): {', '.join(separated)}")
    found.sort(key=lambda d: (d.p_value is None, d.p_value or 0.0, d.feature))
    return result(found, excluded, dropped)


__all__ = [
    "DRIVER_KINDS",
    "Driver",
    "DriverKind",
    "Drivers",
    "DriversSpec",
    "Left",
    "Target",
    "drivers",
]
