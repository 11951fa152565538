"""Comparisons: a baseline and its variants over paired replications, their differences, and the report.

`run` runs them (`compare`) and `comparison` holds the result (`Comparison`); below it, `figures` draws its tables,
`text` writes the strategist's text table and `report` writes ``report.html`` with its files.

May import: `loyaltysim.runs`, `loyaltysim.engine.layout`, `loyaltysim.scenario`, `loyaltysim.errors`.
"""
