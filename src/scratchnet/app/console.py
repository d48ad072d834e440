"""How numbers read on the terminal."""

from __future__ import annotations


def share(accuracy: float, n: int) -> str:
    """An accuracy with the count behind it: '99.2617% (2151/2167)'."""
    return f"{accuracy:.4%} ({round(accuracy * n)}/{n})"
