"""Re-measure the findings that motivated model 2 (issue 10) and draw the levers' dose-response figure.

    .venv/bin/python experiments/findings.py                  # 100,000 people, 5 seeds (about 10 minutes)
    .venv/bin/python experiments/findings.py --quick          # 2,000 people, 2 seeds: checks the script works

Writes ``docs/findings.md`` (the table of issue 10, measured on the current model) and ``docs/dose-response.png``
(12-month retention, NPS and active customers over 7 levels of every lever, mean over seeds with common random
numbers). Every number comes from runs of ``scenarios/baseline.toml``; levers cost nothing here, so only behaviour
is compared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the lever definitions and the terminal value are the property tests' own

from loyaltysim.engine.layout import ADOPTED, CUSTOMER_STAGES, DESIRES, STAGE_CODES  # noqa: E402
from loyaltysim.engine.model import LoyaltyModel  # noqa: E402
from loyaltysim.vocabulary import MONTH_DAYS  # noqa: E402
from test_model2 import LEVERS, TOUCHPOINTS, YEAR, levels_of, outcomes, terminal_value  # noqa: E402
from test_model2 import run as run_baseline  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
ADD_EMPATHY = ROOT / "scenarios" / "add-empathy.toml"


def run(size, seed, overrides=None, days=YEAR, path=BASELINE):
    """The time series of one run of a scenario (the baseline by default) with overrides (the tests' own `run`)."""
    return run_baseline(overrides, seed, size=size, days=days, path=path)


def paired(size, seeds, a, b, metric, days=YEAR, path_a=BASELINE, path_b=BASELINE):
    """Mean and standard error over seeds of metric(b) - metric(a), common random numbers."""
    d = np.array([metric(run(size, s, b, days, path_b)) - metric(run(size, s, a, days, path_a)) for s in seeds])
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0


def fmt(mean_se, unit=" pts"):
    """A paired difference as "+m ± se unit"."""
    m, s = mean_se
    return f"{m:+.2f} ± {s:.2f}{unit}"


def retention(ts):
    """12-month retention of the starting base, %."""
    return outcomes(ts)["retention"]


def nps(ts):
    """NPS at the end of the run."""
    return outcomes(ts)["nps"]


def stage_reach(size, seeds):
    """Adopters ever at each customer stage within a year; active customers by stage after one and three years."""
    ever = {s: [] for s in CUSTOMER_STAGES}
    at = {1: {s: [] for s in CUSTOMER_STAGES}, 3: {s: [] for s in CUSTOMER_STAGES}}
    for seed in seeds:
        model = LoyaltyModel(BASELINE, rng=seed, **{"population.size": size, "time.horizon_days": 3 * YEAR})
        adopters = np.zeros(size, bool)
        seen = {s: np.zeros(size, bool) for s in CUSTOMER_STAGES}
        for step in range(1, model.plan.n_steps + 1):
            model.step()
            if step <= 52:
                adopters |= (model.state.flags & ADOPTED) != 0
                for s in CUSTOMER_STAGES:
                    seen[s] |= adopters & (model.state.stage == STAGE_CODES[s])
            if step == 52:
                for s in CUSTOMER_STAGES:
                    ever[s].append(seen[s].sum() / max(1, adopters.sum()))
            if step in (52, 156):
                row = model.last
                for s in CUSTOMER_STAGES:
                    at[1 if step == 52 else 3][s].append(row[s] / row["active"])
            assert (model.state.stage[(model.state.flags & ADOPTED) != 0] == DESIRES).all()  # every step
    pct = lambda xs: "/".join(f"{100 * np.mean(xs[s]):.0f}" for s in CUSTOMER_STAGES)  # noqa: E731
    return pct(ever), pct(at[1]), pct(at[3])


def price_curve(size, seeds):
    """Profit over five years plus the terminal value of the customers kept, by price; and the best price."""
    prices = [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0]
    value = []
    for price in prices:
        v = []
        for seed in seeds:
            ts = run(size, seed, {"market.price": price}, days=5 * YEAR)
            v.append(ts.profit.sum() + terminal_value(ts, 7.0 / MONTH_DAYS))
        value.append(np.mean(v))
    best = prices[int(np.argmax(value))]
    return best, dict(zip(prices, value, strict=True))


def step_length(size, seeds):
    """Retention, NPS and positive tellings per customer-month with daily, weekly and monthly steps."""
    rows = {}
    for name, days in (("daily", 1.0), ("weekly", 7.0), ("monthly", YEAR / 12)):
        r, n, w = [], [], []
        for seed in seeds:
            ts = run(size, seed, {"time.step_days": days})
            months = days / MONTH_DAYS
            r.append(retention(ts))
            n.append(nps(ts))
            w.append(float(ts.wom_positive.sum()) / (float(ts.active.iloc[1:].sum()) * months))
        rows[name] = (np.mean(r), np.mean(n), np.mean(w))
    return rows


def dose_response_figure(size, seeds, out):
    """Retention, NPS and active customers over the 7 levels of every lever of the property test, to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(11, 11), sharex=True)
    colours = plt.get_cmap("tab20").colors
    for n, (name, key, values) in enumerate(LEVERS):
        style = {"color": colours[n % len(colours)], "ls": "-" if ", all" in name or "," not in name else "--"}
        table = {m: np.zeros(len(values)) for m in ("retention", "nps", "active")}
        for a, over in enumerate(levels_of(key, values)):
            res = [outcomes(run(size, s, over)) for s in seeds]
            for m in table:
                table[m][a] = np.mean([x[m] for x in res])
        for ax, m in zip(axes, table, strict=True):
            ax.plot(range(len(values)), table[m] - table[m][0], marker="o", ms=3, label=name, **style)
    labels = ("12-month retention (pts)", "NPS at 12 months (pts)", "active customers at 12 months")
    for ax, label in zip(axes, labels, strict=True):
        ax.set_ylabel(f"change from level 1\n{label}")
        ax.axhline(0, color="grey", lw=0.5)
    axes[-1].set_xlabel("lever level (1 = worst of 7, 7 = best; levels as in tests/test_model2.py)")
    axes[-1].set_xticks(range(7), [str(k) for k in range(1, 8)])
    axes[0].legend(fontsize="x-small", ncols=3, loc="upper left")
    fig.suptitle(f"Dose-response of every lever, baseline telecom ({size:,} people, {len(seeds)} seeds, CRN)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None):
    """Measure everything, write docs/findings.md and the figure."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 people and 2 seeds: check that the script works")
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--figure-size", type=int, default=20_000, help="people per run of the dose-response figure")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    size, fig_size = (2000, 2000) if args.quick else (args.size, args.figure_size)
    seeds = list(range(1, (2 if args.quick else args.seeds) + 1))
    base = {s: run(size, s) for s in seeds}
    phone = "touchpoints.phone_support"
    empathy_phone = paired(size, seeds, {f"{phone}.empathy": 0.5}, {f"{phone}.empathy": 0.95}, retention)
    shipped = paired(size, seeds, {}, {}, retention, path_b=ADD_EMPATHY)
    shipped_nps = paired(size, seeds, {}, {}, nps, path_b=ADD_EMPATHY)

    def effort(add):
        from test_model2 import all_touchpoints

        return all_touchpoints("effort", add)

    eff = {d: paired(size, seeds, {}, effort(d), retention) for d in (-0.3, -0.05, 0.05)}
    ever, one, three = stage_reach(size, seeds)
    best, curve = price_curve(size, seeds)
    cut_adopt = paired(size, seeds, {}, {"market.price": 0.9}, lambda t: float(t.new_customers.sum()))
    cut_ret = paired(size, seeds, {}, {"market.price": 0.9}, retention)
    steps = step_length(size, seeds)
    last = [base[s].iloc[-1] for s in seeds]
    promoters = np.mean([100 * r.promoters / r.active for r in last])
    detractors = np.mean([100 * r.detractors / r.active for r in last])
    share = np.mean([base[s].lost_to_competitor.sum() / base[s].churned_step.sum() for s in seeds])
    better = {"competitor.empathy": 0.7, "competitor.personalization": 0.7, "competitor.effort": 0.2}
    rival = paired(size, seeds, {}, better, lambda t: float(t.churned_step.sum()))
    hidden = paired(size, seeds, {}, {"competitor.visibility": 0.0}, lambda t: float(t.lost_to_competitor.sum()))
    won = np.mean([base[s].won_back.sum() for s in seeds])
    figure = args.out / "dose-response.png"
    dose_response_figure(fig_size, seeds, figure)
    step_text = "; ".join(
        f"{k}: retention {r:.1f} %, NPS {n:+.1f}, positive tellings per customer-month {w:.2f}"
        for k, (r, n, w) in steps.items()
    )
    rows = [
        (
            "more empathy at phone and store (shipped add-empathy, zero cost)",
            f"retention {fmt(shipped)}, NPS "
            f"{fmt(shipped_nps)}; phone empathy 0.5 → 0.95: retention {fmt(empathy_phone)}",
        ),
        (
            "the effort lever (all touchpoints)",
            f"effort −0.30: {fmt(eff[-0.3])}; −0.05: {fmt(eff[-0.05])}; "
            f"+0.05: {fmt(eff[0.05])} retention (smooth: no threshold shared by everyone)",
        ),
        (
            "stages desires / preferences / personalization / empathy",
            f"adopters ever at each within a year: "
            f"{ever} %; active by stage after 1 year {one} %, after 3 years {three} %",
        ),
        (
            "purchase at desires",
            "every new customer starts at desires (checked in every run); prospects are "
            "counted at needs and expectations and pay nothing",
        ),
        (
            "price",
            f"profit-maximising price over 5 years with terminal value: {best} (of 0.5 … 3.0); a 10 % cut: "
            f"adoption {fmt(cut_adopt, ' customers')}, retention {fmt(cut_ret)}",
        ),
        ("word of mouth and the step length", step_text),
        ("NPS spread", f"{promoters:.1f} % promoters, {detractors:.1f} % detractors at 12 months"),
        (
            "the competitor",
            f"{100 * share:.0f} % of churn lost to the competitor; a better rival (empathy and "
            f"personalization 0.7, effort 0.2): churn {fmt(rival, ' customers')}; invisible: lost to it "
            f"{fmt(hidden, ' customers')}",
        ),
        ("win-back", f"{won:.0f} former customers back among the prospects in the first year"),
    ]
    people = f"{size:,} people, seeds {seeds[0]}-{seeds[-1]}, common random numbers, zero-cost levers"
    lines = [
        "# Model 2 findings, re-measured",
        "",
        f"Written by `experiments/findings.py` ({people}). The rows are the findings of issue 10 that motivated "
        "model 2; `tests/test_model2.py` checks the properties behind them. Differences are paired (the same "
        "seeds in both runs), ± one standard error over seeds.",
        "",
        "| finding | measured on model 2 |",
        "|---|---|",
        *[f"| {a} | {b} |" for a, b in rows],
        "",
        "Profit over 5 years plus terminal value by price: "
        + ", ".join(f"{p:g}: {v / 1e6:.2f} M" for p, v in curve.items()),
        "",
        f"![Dose-response of every lever]({figure.name})",
        "",
        f"The figure: {fig_size:,} people per run, {len(seeds)} seeds, the 13 levers of the property test "
        "(tests/test_model2.py), each over 7 levels from worst to best; every curve starts at 0.",
        "",
    ]
    (args.out / "findings.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"Touchpoints: {', '.join(TOUCHPOINTS)}")


if __name__ == "__main__":
    main()
