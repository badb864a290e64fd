"""The exceptions journeylens raises on purpose; anything else escaping is a bug."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


class JourneylensError(Exception):
    """Base class, so callers can catch every deliberate journeylens failure at once."""


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in one file, placed so an editor can jump to it."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = "error"
    code: str = field(default="invalid", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {prefix}{what}"


class StoreBusyError(JourneylensError):
    """Another process is writing to the store: try again when it is done."""


class ValidationError(JourneylensError):
    """A document failed validation; ``issues`` holds every problem found, not just the first."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        super().__init__(f"{len(errors)} error(s):\n" + "\n".join(str(i) for i in self.issues))


class SelectorError(JourneylensError):
    """A ``match`` selector could not be parsed or names an unknown field."""

    def __init__(self, message: str, *, text: str, column: int) -> None:
        self.message = message
        self.text = text
        self.column = column  # 1-based, like every column journeylens reports
        super().__init__(f"column {column}: {message}")

    def caret(self) -> str:
        """The selector with a caret under the bad token, for terminals."""
        return f"{self.text}\n{' ' * (self.column - 1)}^"


class RenderError(JourneylensError):
    """A map could not be drawn in the requested format (for example, no browser for PNG)."""


class WorkspaceError(JourneylensError):
    """The workspace on disk is missing or unusable (no journeylens.yaml, unknown map id...)."""


class SurveyLinkError(JourneylensError):
    """A survey link that cannot be answered; the message is safe to show the respondent."""


class InvalidSurveyLink(SurveyLinkError):
    """The link was changed, cut short, or not made with this workspace's key."""


class ExpiredSurveyLink(SurveyLinkError):
    """The link was genuine but its validity has passed."""


class SurveyAlreadyAnswered(SurveyLinkError):
    """The link has been used: one answer per link."""
