"""Surveys over a workspace: definitions, invitations, answers, and answers into the store.

The workspace façade mixes this in, so the CLI and the web app ask one place for everything a
survey needs. Answers land in the survey ledger first (durable even while the store is busy)
and move to the event store as a batch through the ordinary ingest path, then take their
customer's key at once (``attach``) so the live map shows them without a re-stitch.
"""

from __future__ import annotations

import csv
import html
import io
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import segno

from journeylens.documents.loading import Loaded, load_document
from journeylens.documents.workspace_files import display_path
from journeylens.documents.yaml_io import merge_into, write_text_atomic, write_yaml
from journeylens.errors import (
    InvalidSurveyLink,
    Issue,
    SurveyAlreadyAnswered,
    ValidationError,
    WorkspaceError,
)
from journeylens.model.journey_map import JourneyMap
from journeylens.model.sources import IDENTIFIER_TYPES
from journeylens.model.survey import SCORED, Survey
from journeylens.model.workspace import WorkspaceFile
from journeylens.store import database
from journeylens.store.identity import attach
from journeylens.store.loading import (
    BatchReport,
    load_file,
    normalised_value,
    pseudonym_key_from_env,
)
from journeylens.surveys import mail, tokens
from journeylens.surveys.answers import read_answer
from journeylens.surveys.events import write_answer_files
from journeylens.surveys.ledger import LEDGER_FILE, Ledger, Response
from journeylens.surveys.mail import SmtpSettings
from journeylens.surveys.tokens import Invitation

__all__ = ["SmtpSettings", "SurveyResults", "SurveysMixin"]

SURVEYS_DIR = "surveys"
ANSWERS_DIR = "survey-answers"

#: Ready-made questions for ``survey create``, in the languages the product speaks.
STARTER_QUESTIONS: dict[str, dict[str, str]] = {
    "nps": {
        "en": "How likely are you to recommend us to a friend or colleague?",
        "ro": "Cât de probabil este să ne recomandați unui prieten sau coleg?",
        "ru": "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
        "sl": "Kako verjetno je, da bi nas priporočili prijatelju ali sodelavcu?",
        "he": "עד כמה סביר שתמליצו עלינו לחבר או לעמית?",
    },
    "csat": {
        "en": "How satisfied are you with this experience?",
        "ro": "Cât de mulțumit sunteți de această experiență?",
        "ru": "Насколько вы довольны этим опытом?",
        "sl": "Kako zadovoljni ste s to izkušnjo?",
        "he": "עד כמה אתם מרוצים מהחוויה הזו?",
    },
    "ces": {
        "en": "How easy was it to get what you needed?",
        "ro": "Cât de ușor a fost să obțineți ce vă trebuia?",
        "ru": "Насколько легко было получить то, что вам было нужно?",
        "sl": "Kako enostavno je bilo dobiti, kar ste potrebovali?",
        "he": "עד כמה היה קל לקבל את מה שהייתם צריכים?",
    },
    "open": {
        "en": "What is the one thing we should change?",
        "ro": "Care este singurul lucru pe care ar trebui să-l schimbăm?",
        "ru": "Что одно нам стоит изменить в первую очередь?",
        "sl": "Katero stvar bi morali spremeniti?",
        "he": "מה הדבר האחד שכדאי לנו לשנות?",
    },
}


#: The scale ends of the starter questions: (low, high) per language.
STARTER_ENDS: dict[str, dict[str, tuple[str, str]]] = {
    "nps": {
        "en": ("Not at all likely", "Extremely likely"),
        "ro": ("Deloc probabil", "Extrem de probabil"),
        "ru": ("Совсем маловероятно", "Очень вероятно"),
        "sl": ("Sploh ni verjetno", "Zelo verjetno"),
        "he": ("בכלל לא סביר", "סביר מאוד"),
    },
    "csat": {
        "en": ("Very dissatisfied", "Very satisfied"),
        "ro": ("Foarte nemulțumit", "Foarte mulțumit"),
        "ru": ("Совсем не доволен", "Очень доволен"),
        "sl": ("Zelo nezadovoljen", "Zelo zadovoljen"),
        "he": ("לא מרוצה בכלל", "מרוצה מאוד"),
    },
    "ces": {
        "en": ("Very difficult", "Very easy"),
        "ro": ("Foarte dificil", "Foarte ușor"),
        "ru": ("Очень сложно", "Очень легко"),
        "sl": ("Zelo težko", "Zelo enostavno"),
        "he": ("קשה מאוד", "קל מאוד"),
    },
}


@dataclass(frozen=True)
class ScoreSummary:
    """Answers to one scored question: count, mean, and the kind's headline figure."""

    kind: str
    answers: int
    mean: float
    headline: float  # NPS: promoters - detractors (%); CSAT: % 4-5; CES: % 5-7 (easy)
    distribution: dict[int, int]


@dataclass(frozen=True)
class AboutResults:
    """Results for one step or touchpoint the survey asked about."""

    about: str | None
    issued: int
    answered: int
    scores: list[ScoreSummary]
    choices: dict[str, dict[str, int]]
    texts: int
    languages: dict[str, int]

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.issued if self.issued else None


@dataclass(frozen=True)
class SurveyResults:
    survey: str
    issued: int
    answered: int
    pending: int
    total: AboutResults
    by_about: list[AboutResults] = field(default_factory=list)


@dataclass(frozen=True)
class FlushReport:
    """Answers moved from the ledger to the event store."""

    answers: int
    batches: list[BatchReport]
    attached: int
    #: Answers left in the ledger because their survey cannot be read now, by survey id.
    waiting: dict[str, int] = field(default_factory=dict)


class SurveysMixin:
    root: Path
    #: Every survey checked, and the files' signature it was checked at.
    _surveys_checked: tuple[tuple[tuple[str, str], ...], list[Loaded[Survey]]] | None = None
    _survey_ledger: Ledger | None = None
    _survey_secret: bytes | None = None

    # Provided by the workspace façade.
    @property
    def settings(self) -> WorkspaceFile:
        raise NotImplementedError

    def maps(self) -> list[JourneyMap]:
        raise NotImplementedError

    @property
    def state_dir(self) -> Path:
        raise NotImplementedError

    def files_signature(self, *extra: Path) -> tuple[tuple[str, str], ...]:
        raise NotImplementedError

    # -- definitions ---------------------------------------------------------------------------
    def survey_files(self) -> list[Path]:
        return sorted((self.root / SURVEYS_DIR).glob("*.y*ml"))

    def check_surveys(
        self, paths: Sequence[Path] | None = None, *, shown_as: Path | None = None
    ) -> list[Loaded[Survey]]:
        """Every survey file read and checked: fields, translations, and what it refers to.

        ``shown_as`` names the file issues are reported in (a draft checked for its file).
        The check of every survey is reused while no file changed."""
        if paths is None and shown_as is None:
            signature = self.files_signature(*self.survey_files())
            cached = self._surveys_checked
            if cached is not None and cached[0] == signature:
                return list(cached[1])
            checked = self._check_survey_files(self.survey_files(), None)
            self._surveys_checked = (signature, checked)
            return list(checked)
        return self._check_survey_files(
            list(paths) if paths is not None else self.survey_files(), shown_as
        )

    def _check_survey_files(
        self, paths: Sequence[Path], shown_as: Path | None
    ) -> list[Loaded[Survey]]:
        settings = self.settings
        steps = {step.id for m in self.maps() for _, step in m.steps()}
        checked: list[Loaded[Survey]] = []
        seen: dict[str, str] = {}
        for path in paths:
            shown = display_path(shown_as or path)
            loaded = load_document(path, Survey, display=shown)
            if loaded.model is not None:
                for issue in _references(loaded, loaded.model, settings, steps):
                    loaded.issues.append(issue)
                first = seen.setdefault(loaded.model.id, loaded.display)
                if first != loaded.display:
                    loaded.issues.append(
                        loaded.issue(("id",), f"survey id '{loaded.model.id}' is also in {first}")
                    )
                if any(i.severity == "error" for i in loaded.issues):
                    loaded.model = None
            checked.append(loaded)
        return checked

    def surveys(self) -> list[Survey]:
        """Every valid survey; raises :class:`ValidationError` listing every problem."""
        checked = self.check_surveys()
        errors = [i for c in checked for i in c.issues if i.severity == "error"]
        if errors:
            raise ValidationError(errors)
        return [c.model for c in checked if c.model is not None]

    def survey(self, survey_id: str) -> Survey:
        checked = self.check_surveys()
        for loaded in checked:
            tree_id = loaded.tree.get("id") if isinstance(loaded.tree, dict) else None
            if tree_id == survey_id:
                if loaded.model is None:
                    raise ValidationError(loaded.issues)
                return loaded.model
        for loaded in checked:  # its file cannot even be read as a survey
            if loaded.path.stem == survey_id and loaded.issues:
                raise ValidationError(loaded.issues)
        known = ", ".join(sorted(s.stem for s in self.survey_files())) or "none"
        raise WorkspaceError(f"no survey {survey_id!r} (surveys: {known})")

    def survey_path(self, survey_id: str) -> Path:
        """The file of the survey with this id (valid or not)."""
        for loaded in self.check_surveys():
            if isinstance(loaded.tree, dict) and loaded.tree.get("id") == survey_id:
                return loaded.path
        raise WorkspaceError(f"no survey {survey_id!r}")

    def create_survey(
        self,
        survey_id: str,
        *,
        kinds: Sequence[str] = ("csat", "open"),
        about: str | None = None,
        touchpoint: str | None = None,
        languages: Sequence[str] = ("en",),
        name: str | None = None,
    ) -> Path:
        """Write ``surveys/<id>.yaml`` with starter questions, checked like any survey."""
        target = self.root / SURVEYS_DIR / f"{survey_id}.yaml"
        if target.exists():
            raise WorkspaceError(f"{display_path(target)} already exists")
        unknown = [k for k in kinds if k not in STARTER_QUESTIONS]
        if unknown:
            raise WorkspaceError(
                f"no starter question for {', '.join(unknown)}; "
                f"choose from {', '.join(STARTER_QUESTIONS)} (or write the YAML)"
            )

        def text(texts: dict[str, str]) -> str | dict[str, str]:
            if len(languages) == 1:
                return texts.get(languages[0], texts["en"])
            return {lang: texts.get(lang, texts["en"]) for lang in languages}

        def question(kind: str) -> dict[str, Any]:
            made: dict[str, Any] = {"id": kind, "kind": kind}
            made["text"] = text(STARTER_QUESTIONS[kind])
            made["required"] = kind in SCORED
            if kind in STARTER_ENDS:
                ends = STARTER_ENDS[kind]
                made["low_label"] = text({lang: pair[0] for lang, pair in ends.items()})
                made["high_label"] = text({lang: pair[1] for lang, pair in ends.items()})
            return made

        data: dict[str, Any] = {"journeylens": 1, "id": survey_id, "name": name or survey_id}
        data["languages"] = list(languages)
        if touchpoint:
            data["touchpoint"] = touchpoint
        if about:
            data["about"] = about
        data["questions"] = [question(kind) for kind in kinds]
        target.parent.mkdir(parents=True, exist_ok=True)
        write_yaml(target, merge_into(None, data))
        checked = self.check_surveys([target])[0]
        errors = [i for i in checked.issues if i.severity == "error"]
        if errors:
            target.unlink()
            raise ValidationError(errors)
        return target

    def survey_text(self, survey_id: str) -> tuple[Path, str]:
        path = self.survey_path(survey_id)
        return path, path.read_text(encoding="utf-8")

    def save_survey_text(self, survey_id: str | None, text: str) -> Survey:
        """Write a survey's YAML if it is valid (a new one when ``survey_id`` is None)."""
        drafts = self.state_dir / "drafts"
        drafts.mkdir(parents=True, exist_ok=True)
        draft = drafts / f"survey-{survey_id or 'new'}.{datetime.now(UTC).timestamp()}.yaml"
        draft.write_text(text, encoding="utf-8")
        try:
            if survey_id is None:
                shown = self.root / SURVEYS_DIR / "new.yaml"
            else:
                shown = self.survey_path(survey_id)
            loaded = self.check_surveys([draft], shown_as=shown)[0]
            errors = [i for i in loaded.issues if i.severity == "error"]
            if loaded.model is None or errors:
                raise ValidationError(errors or loaded.issues)
            survey = loaded.model
            if survey_id is None:
                target = self.root / SURVEYS_DIR / f"{survey.id}.yaml"
                if survey.id in {p.stem for p in self.survey_files()} or target.exists():
                    raise WorkspaceError(f"a survey {survey.id!r} exists already")
            else:
                target = self.survey_path(survey_id)
                if survey.id != survey_id:
                    raise WorkspaceError(
                        f"the edited survey's id is {survey.id!r}, not {survey_id!r}: ids are "
                        "stable (links already sent name it)"
                    )
            target.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(target, text)
            return survey
        finally:
            draft.unlink(missing_ok=True)

    # -- invitations ---------------------------------------------------------------------------
    def _ledger(self) -> Ledger:
        """The ledger, opened (schema checked, key read) once per workspace object."""
        if self._survey_ledger is None:
            self._survey_ledger = Ledger(self.state_dir / LEDGER_FILE, self._survey_key())
        return self._survey_ledger

    def _survey_key(self) -> bytes:
        if self._survey_secret is None:
            self._survey_secret = tokens.load_key(self.state_dir)
        return self._survey_secret

    def survey_invitation(
        self,
        survey_id: str,
        identifier: str,
        *,
        about: str | None = None,
        language: str | None = None,
        via: str = "link",
    ) -> tuple[str, Invitation]:
        """A sealed token for one customer (``type:value``), recorded as issued."""
        survey = self.survey(survey_id)
        if about is not None:
            steps = {step.id for m in self.maps() for _, step in m.steps()}
            touchpoints = {t.id for t in self.settings.touchpoints}
            if about not in steps | touchpoints:
                raise WorkspaceError(f"--about {about!r} is neither a map step nor a touchpoint")
        if language is not None and language not in survey.languages:
            raise WorkspaceError(
                f"survey {survey.id!r} is written in {', '.join(survey.languages)}, not {language}"
            )
        token, invitation = self._draft_invitation(survey, identifier, about, language)
        self._ledger().issue(invitation, via)
        return token, invitation

    def open_survey_token(self, token: str) -> tuple[Survey, Invitation, bool]:
        """The survey and invitation behind a link, and whether it was answered already.

        Raises :class:`InvalidSurveyLink` or :class:`ExpiredSurveyLink`."""
        invitation = tokens.open_token(token, self._survey_key())
        try:
            survey = self.survey(invitation.survey)
        except (WorkspaceError, ValidationError):
            raise InvalidSurveyLink("this survey is no longer available") from None
        return survey, invitation, self._ledger().answered(invitation.token_id)

    def answer_survey(
        self, token: str, form: Mapping[str, Sequence[str]], language: str
    ) -> dict[str, str]:
        """Record an answer; returns problems by question id (nothing recorded) or ``{}``.

        Raises :class:`SurveyAlreadyAnswered` for a second answer on the same link."""
        survey, invitation, answered = self.open_survey_token(token)
        if answered:
            raise SurveyAlreadyAnswered("this survey link has been answered already")
        answer, problems = read_answer(survey, form)
        if problems:
            return problems
        self._ledger().record(invitation, answer, survey.language_for(language))
        return {}

    def flush_survey_answers(self) -> FlushReport:
        """Load pending answers into the event store as batches; raises StoreBusyError."""
        ledger = self._ledger()
        pending = ledger.responses(pending=True)
        if not pending:
            return FlushReport(0, [], 0)
        by_survey: dict[str, list[Response]] = {}
        for response in pending:
            by_survey.setdefault(response.survey, []).append(response)
        settings = self.settings
        readable = {c.model.id: c.model for c in self.check_surveys() if c.model is not None}
        # A survey whose file is gone or broken keeps its answers waiting; the rest go in.
        waiting = {k: len(v) for k, v in by_survey.items() if k not in readable}
        folder = self.state_dir / ANSWERS_DIR
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        reports: list[BatchReport] = []
        attached = 0
        with database.writer(self.root) as con:
            for survey_id, responses in by_survey.items():
                if survey_id in waiting:
                    continue
                survey = readable[survey_id]
                channel = survey.channel or (
                    tp.channel if (tp := settings.touchpoint(survey.touchpoint or "")) else None
                )
                for answers in write_answer_files(survey, responses, channel, folder, stamp):
                    report = load_file(
                        con,
                        answers.spec,
                        answers.path,
                        fmt="jsonl",
                        display=display_path(answers.path),
                        known_channels=[c.id for c in settings.channels],
                        known_touchpoints=[t.id for t in settings.touchpoints],
                        pseudonym_key=pseudonym_key_from_env(),
                    )
                    reports.append(report)
                    if report.batch_id is not None:
                        attached += attach(con, [report.batch_id])
                        ledger.mark_loaded(answers.token_ids, report.batch_id)
                    answers.path.unlink(missing_ok=True)
        return FlushReport(len(pending) - sum(waiting.values()), reports, attached, waiting)

    def survey_link_extras(self, link: str) -> tuple[str, str]:
        """A QR code (SVG) and an embeddable snippet (an iframe) for a survey link."""
        qr = segno.make(link, error="m")
        buffer = io.BytesIO()
        qr.save(buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True)
        snippet = (
            f'<iframe src="{html.escape(link, quote=True)}" title="Survey" width="100%" '
            'height="560" style="border:0;max-width:640px" loading="lazy"></iframe>'
        )
        return buffer.getvalue().decode(), snippet

    def write_survey_qr(self, link: str, path: Path) -> Path:
        """A QR code of the link for print (a receipt, a poster at the counter): SVG or PNG."""
        if path.suffix.lower() not in (".svg", ".png"):
            raise WorkspaceError(f"{path}: a QR code is written as .svg or .png")
        segno.make(link, error="m").save(str(path), scale=8, border=2)
        return path

    def send_survey(
        self,
        survey_id: str,
        recipients: Iterable[tuple[str, str | None, str | None]],
        *,
        base_url: str,
        smtp: SmtpSettings,
        dry_run: Path | None = None,
    ) -> tuple[int, list[Path]]:
        """E-mail one invitation per (address, about, language); returns (count, dry-run files)."""
        survey = self.survey(survey_id)
        messages, invitations = [], []
        for address, about, language in recipients:
            token, invitation = self._draft_invitation(survey, f"email:{address}", about, language)
            link = base_url.rstrip("/") + "/s/" + token
            chosen = survey.language_for(language)
            messages.append(mail.compose(survey, mail.Outgoing(address, link, chosen), smtp))
            invitations.append(invitation)
        written = mail.send(messages, smtp, dry_run=dry_run)
        if dry_run is None:
            ledger = self._ledger()
            for invitation in invitations:
                ledger.issue(invitation, "email")
        return len(messages), written

    def _draft_invitation(
        self, survey: Survey, identifier: str, about: str | None, language: str | None
    ) -> tuple[str, Invitation]:
        invitation = tokens.new_invitation(
            survey.id,
            normalise_survey_identifier(identifier),
            about or survey.about,
            valid_days=survey.valid_days,
            language=language if language in survey.languages else None,
        )
        return tokens.seal(invitation, self._survey_key()), invitation

    # -- results -------------------------------------------------------------------------------
    def survey_results(self, survey_id: str) -> SurveyResults:
        """Response rates and answers per step asked about, from the ledger (pending too)."""
        survey = self.survey(survey_id)
        ledger = self._ledger()
        responses = ledger.responses(survey.id)
        issued: Counter[str | None] = Counter()
        for row in ledger.issued(survey.id):
            issued[row.about] += row.count
        abouts = sorted(set(issued) | {r.about for r in responses}, key=lambda a: a or "")
        by_about = [
            _summarise(survey, a, issued[a], [r for r in responses if r.about == a]) for a in abouts
        ]
        total = _summarise(survey, None, sum(issued.values()), responses)
        pending = sum(r.batch_id is None for r in responses)
        return SurveyResults(
            survey.id, sum(issued.values()), len(responses), pending, total, by_about
        )

    def survey_responses(self, survey_id: str) -> list[Response]:
        """Every answer to the survey, oldest first (identifiers only while not yet loaded)."""
        return self._ledger().responses(self.survey(survey_id).id)

    def survey_responses_csv(self, survey_id: str) -> str:
        """Every answer as CSV: one row per response, one column per question (no identifiers)."""
        survey = self.survey(survey_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["response", "answered_at", "about", "language", *[q.id for q in survey.questions]]
        )
        for response in self._ledger().responses(survey.id):
            answer = response.answer
            cells = []
            for question in survey.questions:
                if question.kind in SCORED:
                    cells.append(answer.scores.get(question.kind, ""))
                elif question.kind == "open":
                    cells.append(_csv_safe(answer.text or ""))
                else:
                    cells.append(";".join(answer.choices.get(question.id, [])))
            writer.writerow(
                [
                    response.token_id,
                    response.answered_at.isoformat(),
                    response.about or "",
                    response.language,
                    *cells,
                ]
            )
        return out.getvalue()

    def erase_survey_identifier(self, identifier: str) -> int:
        """Forget an identifier's survey links and answers (part of ``erase``)."""
        if not (self.state_dir / LEDGER_FILE).exists():
            return 0
        return self._ledger().erase(normalise_survey_identifier(identifier))


def normalise_survey_identifier(identifier: str) -> str:
    """``type:value`` normalised as ingest does (e-mail case, phone to E.164)."""
    id_type, sep, value = identifier.partition(":")
    if not sep or id_type not in IDENTIFIER_TYPES or not value.strip():
        raise WorkspaceError(
            f"expected an identifier as type:value (e.g. email:ana@example.com), got "
            f"{identifier!r}; types: {', '.join(IDENTIFIER_TYPES)}"
        )
    normalised = normalised_value(id_type, value)
    if not normalised:
        raise WorkspaceError(f"{identifier!r} is not a valid {id_type}")
    return f"{id_type}:{normalised}"


def _references(
    loaded: Loaded[Survey], survey: Survey, settings: WorkspaceFile, steps: set[str]
) -> Iterable[Issue]:
    touchpoints = {t.id for t in settings.touchpoints}
    channels = {c.id for c in settings.channels}
    if survey.touchpoint is not None and survey.touchpoint not in touchpoints:
        yield loaded.issue(("touchpoint",), f"unknown touchpoint '{survey.touchpoint}'")
    if survey.channel is not None and survey.channel not in channels:
        yield loaded.issue(("channel",), f"unknown channel '{survey.channel}'")
    if survey.about is not None and survey.about not in steps | touchpoints:
        yield loaded.issue(
            ("about",), f"'{survey.about}' is neither a step of a map nor a touchpoint"
        )
    for loc, language in survey.missing_translations():
        yield loaded.issue(loc, f"no {language} text: the survey's languages need every text")


def _summarise(
    survey: Survey, about: str | None, issued: int, responses: Sequence[Response]
) -> AboutResults:
    scores = []
    for question in survey.questions:
        if question.kind not in SCORED:
            continue
        kind = question.kind
        values = [r.answer.scores[kind] for r in responses if kind in r.answer.scores]
        if not values:
            continue
        scores.append(
            ScoreSummary(
                question.kind,
                len(values),
                round(statistics.fmean(values), 2),
                _headline(question.kind, values),
                dict(sorted(Counter(values).items())),
            )
        )
    choices = {
        q.id: {
            c.id: sum(c.id in r.answer.choices.get(q.id, []) for r in responses) for c in q.choices
        }
        for q in survey.questions
        if q.choices
    }
    return AboutResults(
        about,
        issued,
        len(responses),
        scores,
        choices,
        sum(bool(r.answer.text) for r in responses),
        dict(Counter(r.language for r in responses)),
    )


def _headline(kind: str, values: Sequence[int]) -> float:
    n = len(values)
    if kind == "nps":
        return round(100 * (sum(v >= 9 for v in values) - sum(v <= 6 for v in values)) / n, 1)
    if kind == "csat":
        return round(100 * sum(v >= 4 for v in values) / n, 1)
    return round(100 * sum(v >= 5 for v in values) / n, 1)


def _csv_safe(text: str) -> str:
    # A spreadsheet would run "=..." as a formula: customer text is data, never code.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
