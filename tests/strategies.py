"""Hypothesis strategies that build valid journey-map models, for round-trip tests."""

from __future__ import annotations

from hypothesis import strategies as st

from journeylens.model.journey_map import (
    Branch,
    Competitor,
    JourneyMap,
    KpiBinding,
    MomentOfTruth,
    PainPoint,
    Path,
    Stage,
    Step,
)

ids = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
# Text that stresses YAML: leading/trailing spaces, keywords like 'yes'/'null', numbers,
# colons, quotes, hashes, non-Latin scripts and right-to-left text.
plain = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=30),
    st.sampled_from(
        [
            "yes",
            "no",
            "null",
            "~",
            "1e3",
            "0x1F",
            "- item",
            "a: b",
            "#hash",
            "'quoted'",
            '"dq"',
            " lead",
            "trail ",
            "שלום, עולם",
            "Привет",
            "ș ț",
        ]
    ),
)
languages = st.sampled_from(["en", "ro", "ru", "sl", "he", "pt-BR"])
texts = st.one_of(plain, st.dictionaries(languages, plain, min_size=1, max_size=3))
emotions = st.one_of(
    st.none(),
    st.integers(-2, 2).map(float),
    st.floats(-2, 2, allow_nan=False).map(lambda f: round(f, 2)),
)


@st.composite
def steps(draw: st.DrawFn, step_id: str, all_ids: list[str]) -> Step:
    others = [i for i in all_ids if i != step_id]
    return Step(
        id=step_id,
        action=draw(texts),
        kind=draw(st.sampled_from(["action", "decision", "wait"])),
        thoughts=draw(st.lists(texts, max_size=2)),
        emotion=draw(emotions),
        pain_points=draw(
            st.lists(
                st.builds(PainPoint, text=texts, severity=st.sampled_from(["low", "critical"])),
                max_size=2,
            )
        ),
        opportunities=draw(st.lists(ids, max_size=2)),
        moment_of_truth=draw(
            st.one_of(
                st.none(),
                st.builds(
                    MomentOfTruth,
                    type=st.sampled_from(["ZMOT", "FMOT", "custom"]),
                    rationale=st.one_of(st.none(), texts),
                ),
            )
        ),
        backstage=draw(st.lists(texts, max_size=2)),
        kpis=draw(
            st.lists(
                st.builds(
                    KpiBinding,
                    metric=ids,
                    target=st.one_of(st.none(), st.integers(0, 100).map(float)),
                ),
                max_size=1,
            )
        ),
        next=[Branch(step=t) for t in draw(st.lists(st.sampled_from(others), max_size=2))]
        if others
        else [],
        match=draw(
            st.sampled_from([None, 'activity == "pay"', 'channel in ["web", "app"] and attr.n > 2'])
        ),
        evidence=draw(st.sampled_from([None, "assumed", "research", "measured"])),
    )


@st.composite
def journey_maps(draw: st.DrawFn) -> JourneyMap:
    step_ids = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    cut = draw(st.integers(1, len(step_ids)))
    groups = [step_ids[:cut], step_ids[cut:]] if cut < len(step_ids) else [step_ids]
    map_type = draw(st.sampled_from(["current", "future", "day_in_the_life"]))
    return JourneyMap(
        id=draw(ids),
        title=draw(texts),
        type=map_type,
        language=draw(languages),
        personas=draw(st.lists(ids, max_size=2)),
        goal=draw(st.one_of(st.none(), texts)),
        competitors=[Competitor(id="rival", name=draw(texts))]
        if map_type == "day_in_the_life"
        else [],
        stages=[
            Stage(
                id=f"stage-{n}",
                name=draw(texts),
                steps=[draw(steps(step_id, step_ids)) for step_id in group],
            )
            for n, group in enumerate(groups)
        ],
        paths=[Path(id="happy", name=draw(texts), steps=step_ids)],
    )
