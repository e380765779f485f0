"""Errors every optimisation domain raises for a problem it cannot take."""

from __future__ import annotations


class ProblemError(ValueError):
    """A malformed or inconsistent problem; the message names the field."""
