"""The teaching app: an interactive CX Spectrum classroom in the browser, with guided lessons in Spanish and English.

`loyaltysim teach` serves it (`server.serve`); `Classroom` is one student's run, usable without a browser;
`export` writes a run as a PNG or GIF for slides. Solara is imported only by the app and the server.

May import: `loyaltysim.engine`, `loyaltysim.runs`, `loyaltysim.scenario`, `loyaltysim.errors`, Solara, matplotlib,
networkx.
"""

from loyaltysim.teach.classroom import Classroom
from loyaltysim.teach.lessons import LESSON_IDS, lesson_scenario
from loyaltysim.teach.levers import LEVERS, Lever, levers

__all__ = ["LESSON_IDS", "LEVERS", "Classroom", "Lever", "lesson_scenario", "levers"]
