"""Guided lessons: each is a scenario file in ``teach/scenarios`` that extends ``classroom.toml``.

The texts (explanation, what to try, question for the class) are in `loyaltysim.teach.translations`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from loyaltysim.scenario import Scenario, load_scenario

__all__ = ["LESSON_IDS", "SCENARIO_DIR", "lesson_scenario"]

SCENARIO_DIR = Path(__file__).parent / "scenarios"
"""Folder of the classroom scenario and the lesson scenarios."""

LESSON_IDS = (
    "pyramid",
    "effort_vs_delight",
    "bad_news",
    "personalization_empathy",
    "retention_economics",
    "journey",
    "servqual",
    "free_play",
)
"""Lessons in teaching order."""


@cache
def lesson_scenario(lesson: str) -> Scenario:
    """The validated preset scenario of ``lesson`` (read once, then shared: scenarios are only read)."""
    if lesson not in LESSON_IDS:
        raise ValueError(f"unknown lesson {lesson!r}; allowed: {', '.join(LESSON_IDS)}")
    return load_scenario(SCENARIO_DIR / f"{lesson}.toml")
