"""Surveys: signed invitations, one answer per invitation, mail, and answers as events."""
