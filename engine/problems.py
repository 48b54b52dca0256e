"""A problem found in a deployment, named the way an analyst finds it: file, line, element."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element_id: str
    element_name: str
    message: str

    def __str__(self) -> str:
        """``FILE:LINE: ID (NAME): message`` on one line (a name may hold line breaks)."""
        name = _one_line(self.element_name) or "-"
        return (f"{self.file}:{self.line or 0}: {self.element_id or '-'} ({name}): "
                f"{_one_line(self.message)}")


def _one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\r" in text else text
