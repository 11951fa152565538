"""A virtual survey of the simulated customers: the seed articles' statistics measured from their behaviour.

`survey` runs a scenario with the model's diary on, keeps what every customer did and felt over the survey's
windows (`loyaltysim.survey.panel`), and measures each statistic of `loyaltysim.survey.questions` from it, with
a confidence interval over replications, beside the figure the seed states (`Survey`). Definitions:
``docs/survey.md``. It sits in the layer of comparisons and sweeps: it may import the engine, runs, scenario and
errors, and nothing above them.
"""

from __future__ import annotations

from loyaltysim.survey.questions import QUESTIONS, Question
from loyaltysim.survey.survey import WINDOW_DAYS, Survey, survey

__all__ = ["QUESTIONS", "WINDOW_DAYS", "Question", "Survey", "survey"]
