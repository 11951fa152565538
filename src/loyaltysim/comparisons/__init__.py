"""Comparisons: a baseline and its variants over paired replications, their differences, and the report.

`comparison` runs them (`compare`) and holds the result (`Comparison`); below it, `figures` draws its tables and
`report` writes the strategist's text table and ``report.html``.

May import: `loyaltysim.runs`, `loyaltysim.engine.layout`, `loyaltysim.scenario`, `loyaltysim.errors`.
"""
