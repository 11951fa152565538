"""The engine: a `Scenario` and a seed become a run of `LoyaltyModel`, one step at a time.

The flow inside: `params` and `plan` turn the scenario into rule constants and per-step tables; `layout` names every
array slot; `rng` gives counter-based draws; `network` builds the social network; `rules` are the behaviour of one
customer, written once; `kernels` (compiled, parallel) and `agents` (readable Mesa agents) loop over customers and
call the rules; `model` runs the phases of a step and `outputs` turns each step's tally into a row.

May import: `loyaltysim.scenario`, `loyaltysim.errors`, numpy, numba, Mesa. Nothing above it.
"""
