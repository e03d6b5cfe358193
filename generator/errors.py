"""User-facing problems: one line each, with a location, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as FILE:LINE:COL or FILE#/json/pointer."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"error: {self.location}: {self.message}"


class SpecError(Exception):
    """The input cannot be turned into a client (exit code 2)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems

    @classmethod
    def single(cls, location: str, message: str) -> SpecError:
        return cls([Problem(location, message)])
