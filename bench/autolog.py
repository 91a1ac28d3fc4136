"""What autologging adds to a cell's time, as a Jupyter client sees it.

Starts the gopherlab kernel through jupyter_client (in a scratch directory,
so its tracking store is a scratch one), loads scikit-learn's digits in a
cell, then, for each fit, runs pairs of cells that only fit, once with
autologging off and once on (%autolog; which goes first alternates), and
times each cell from execute_request to execute_reply on the client. After
each fit cell a cell waits for its run to be written, so the next fit never
competes with the writing (bench/incell shows what the writing costs a
cell that follows at once).

Prints, per fit: the median round trip off, the median over the pairs of
on - off with a 95% confidence interval (a sign test's order statistics),
and that median against the median round trip off, for the round trip and
for the fit's own time measured inside the cell (time.Now around it: the
same cost, measured without the client's and the sockets' jitter). The goal
is at most 2% of the cell's time. Short fits get more pairs (within
--budget seconds each), as their difference is a few microseconds in a
round trip that varies by more.

Run: /usr/bin/python3 bench/autolog.py [--pairs 30] [--budget 20] [--only NB]
(`make bench` installs the kernelspec and runs it.)
"""

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

SETUP = f"""import (
	"time"

	"github.com/gopherlab/gopherlab/experiments"
	"github.com/gopherlab/gopherlab/tracking"
)

ds, _ := experiments.ReadCSV("{DIGITS}", experiments.CSVOptions{{NoHeader: true}})
dsCols := ds.Columns()
target := dsCols[len(dsCols)-1]
X, y, _ := ds.XY(target)
_ = tracking.FlushAutologgers
_ = time.Now"""

# The statements the cells time; each sets err.
FITS = [
    ("gaussian NB (small fit)", "err := (&experiments.GaussianNB{}).Fit(X, y)"),
    ("pipeline on a dataset (NB)",
     "err := experiments.NewPipeline(&experiments.StandardScaler{}, &experiments.GaussianNB{}).FitDataset(ds, target)"),
    ("decision tree (depth 6)", "err := (&experiments.DecisionTreeClassifier{MaxDepth: 6, Seed: 1}).Fit(X, y)"),
    ("random forest (100 trees)", "err := (&experiments.RandomForestClassifier{Seed: 1}).Fit(X, y)"),
    ("logistic regression", "err := (&experiments.LogisticRegression{MaxIter: 300}).Fit(X, y)"),
    ("k-nearest neighbours (CV 5)",
     "_, err := experiments.CrossValidate(&experiments.KNeighborsClassifier{}, X, y, experiments.CVOptions{K: 5})"),
]

GOAL_PCT = 2.0


def run(kc, code, expr=None, timeout=600):
    """Executes code; returns the round trip in seconds (execute_request to
    execute_reply), and the value of expr, a float, if given; fails on an
    error reply."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code, user_expressions={"v": expr} if expr else None)
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    dt = time.perf_counter() - t0
    if msg["content"].get("status") != "ok":
        raise RuntimeError(f"cell failed: {code!r}: {msg['content'].get('evalue')}")
    while True:  # the cell's output and status messages
        try:
            kc.get_iopub_msg(timeout=0)
        except Exception:
            break
    if expr:
        return dt, float(msg["content"]["user_expressions"]["v"]["data"]["text/plain"])
    return dt


def median_ci(d):
    """95% confidence interval of the median of d by a sign test's order
    statistics (no assumption on d's distribution)."""
    s = sorted(d)
    n = len(s)
    k = max(0, min(int((n - 1.96 * math.sqrt(n)) / 2), n - 1))
    return s[k], s[max(k, n - 1 - k)]


def us(x):
    return f"{x * 1e6:,.0f}µs" if abs(x) < 0.01 else f"{x * 1e3:.2f}ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=30, help="least pairs of cells per fit")
    ap.add_argument("--budget", type=float, default=20, help="seconds of pairs per fit, beyond the least")
    ap.add_argument("--only", default="", help="run only the fits whose name contains this")
    ap.add_argument("--kernel", default="gopherlab", help="kernelspec name")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        km = KernelManager(kernel_name=args.kernel)
        km.start_kernel(cwd=scratch)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            run(kc, SETUP)
            print(f"gopherlab kernel through jupyter_client; digits {DIGITS}")
            print("cell: its round trip, execute_request -> execute_reply; in cell: the fit's own time, measured inside the cell")
            print("on - off: the median over the pairs, with its 95% confidence interval, and against the median cell off (goal <= 2%)\n")
            print(f"{'fit':<28} {'pairs':>6} {'cell off':>10} | {'cell: on - off':>14} {'95% CI':>22} {'':>7} | "
                  f"{'in cell: on - off':>17} {'95% CI':>22} {'':>7}")
            for name, code in FITS:
                if args.only not in name:
                    continue
                cell = "t0 := time.Now()\n" + code + "\nel := time.Since(t0)\nif err != nil {\n\tpanic(err)\n}"
                off, on, fit_off, fit_on = [], [], [], []
                start = time.monotonic()
                i = 0
                while i < args.pairs or (time.monotonic() - start < args.budget and i < 40 * args.pairs):
                    t, f = {}, {}
                    for k in (0, 1):
                        autolog = (i + k) % 2 == 1
                        run(kc, "%autolog on" if autolog else "%autolog off")
                        t[autolog], f[autolog] = run(kc, cell, "el.Seconds()")
                        run(kc, "tracking.FlushAutologgers()")
                    off.append(t[False])
                    on.append(t[True])
                    fit_off.append(f[False])
                    fit_on.append(f[True])
                    i += 1
                m_off = statistics.median(off)
                cols = []
                for a, b in ((off, on), (fit_off, fit_on)):
                    d = [y - x for x, y in zip(a, b)]
                    lo, hi = median_ci(d)
                    pct = 100 * statistics.median(d) / m_off
                    cols.append((statistics.median(d), lo, hi, pct))
                goal = "met" if max(c[3] for c in cols) <= GOAL_PCT else "NOT met"
                print(f"{name:<28} {len(off):>6} {us(m_off):>10} | " + " | ".join(
                    f"{us(m):>{w}} {'[' + us(lo) + ', ' + us(hi) + ']':>22} {pct:>6.1f}%"
                    for (m, lo, hi, pct), w in zip(cols, (14, 17))) + f" {goal}", flush=True)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


if __name__ == "__main__":
    sys.exit(main())
