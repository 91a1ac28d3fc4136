"""Kernel benchmark: gopherlab and ipykernel side by side, through jupyter_client.

Measures, for each kernelspec:
  start   time from start_kernel() to the first kernel_info_reply (median of --starts)
  p50/p99 client-side round trip of execute_request("1+1") -> execute_reply (after warm-up)
  rss     resident memory of the kernel's process tree (gopherlab runs its
          interpreter in a child worker), from /proc/<pid>/status VmRSS: idle after
          one cell, and again after all the measured executions

and prints a table with gopherlab/ipykernel ratios and the project's goals:
  p50 <= 0.2x ipykernel, start <= 1.0x ipykernel, RSS <= 40 MB.

Run: /usr/bin/python3 bench/kernel.py [--runs 1000] [--starts 5] [--json FILE]
(`make bench` builds and installs gopherlab first).
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

GOAL_P50_RATIO = 0.2
GOAL_START_RATIO = 1.0
GOAL_RSS_MB = 40.0


def wait_reply(kc, msg_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no reply to {msg_id} within {timeout}s")
        try:
            msg = kc.get_shell_msg(timeout=left)
        except Exception:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def drain_iopub(kc):
    while True:
        try:
            kc.get_iopub_msg(timeout=0)
        except Exception:
            return


def start(name):
    """Starts a kernel; returns (km, kc, seconds to the first kernel_info_reply)."""
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    # The request waits in the client's queue until the kernel binds its
    # socket, so the reply time is the kernel's start time.
    wait_reply(kc, kc.kernel_info())
    elapsed = time.perf_counter() - t0
    return km, kc, elapsed


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def children(pid):
    """Direct children of pid, from /proc/*/stat."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces; fields resume after ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    """Proportional set size: pages shared between processes (gopherlab's
    kernel and worker map the same binary) count once across them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return "?"
    return " ".join(os.path.basename(a.decode(errors="replace")) if i == 0 else a.decode(errors="replace")
                    for i, a in enumerate(args[:3]) if a)


def tree_pids(pid):
    out, todo, seen = [], [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
        todo.extend(children(p))
    return out


def tree_rss(pid):
    """RSS of pid and its descendants: (total MB, [(pid, MB, command), ...])."""
    procs = [(p, rss_kb(p) / 1024.0, cmdline(p)) for p in tree_pids(pid)]
    return sum(mb for _, mb, _ in procs), procs


def tree_pss(pid):
    """PSS of pid and its descendants, in MB."""
    return sum(pss_kb(p) for p in tree_pids(pid)) / 1024.0


def percentile(xs, q):
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def bench(name, runs, starts, warmup):
    print(f"[{name}] start x{starts} ...", file=sys.stderr, flush=True)
    start_times = []
    for _ in range(starts):
        km, kc, s = start(name)
        start_times.append(s)
        stop(km, kc)

    km, kc, _ = start(name)
    try:
        # Idle memory of a fresh kernel that has run one cell (gopherlab may
        # start its worker lazily).
        wait_reply(kc, kc.execute("1+1"))
        pid = km.provisioner.process.pid
        # Right after the cell: gopherlab has not yet trimmed its idle
        # working set (GOPHERLAB_IDLE_TRIM, 1 s).
        time.sleep(0.2)
        busy_rss, _ = tree_rss(pid)
        time.sleep(1.3)
        drain_iopub(kc)
        fresh_rss, fresh_procs = tree_rss(pid)
        fresh_pss = tree_pss(pid)
        print(f"[{name}] execute 1+1: {warmup} warm-up, {runs} measured ...", file=sys.stderr, flush=True)
        for _ in range(warmup):
            reply = wait_reply(kc, kc.execute("1+1"))
            if reply["content"].get("status") != "ok":
                raise RuntimeError(f"{name}: 1+1 failed: {reply['content']}")
            drain_iopub(kc)
        rtts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            msg_id = kc.execute("1+1")
            wait_reply(kc, msg_id)
            rtts.append(time.perf_counter() - t0)
            drain_iopub(kc)
        raw = raw_round_trips(km, runs)
        drain_iopub(kc)
        time.sleep(2)  # let the kernel settle to idle
        drain_iopub(kc)
        rss, procs = tree_rss(pid)
        pss = tree_pss(pid)
    finally:
        stop(km, kc)
    return {
        "kernel": name,
        "start_s": statistics.median(start_times),
        "start_all_s": start_times,
        "p50_ms": 1000 * percentile(rtts, 0.50),
        "p99_ms": 1000 * percentile(rtts, 0.99),
        "mean_ms": 1000 * statistics.fmean(rtts),
        "raw_p50_ms": 1000 * percentile(raw, 0.50),
        "raw_p99_ms": 1000 * percentile(raw, 0.99),
        "rss_mb": fresh_rss,
        "rss_busy_mb": busy_rss,
        "pss_mb": fresh_pss,
        "pss_after_mb": pss,
        "processes": [{"pid": p, "rss_mb": mb, "command": c} for p, mb, c in fresh_procs],
        "rss_after_mb": rss,
        "processes_after": [{"pid": p, "rss_mb": mb, "command": c} for p, mb, c in procs],
        "runs": runs,
    }


def raw_round_trips(km, runs):
    """Execute round trips on a bare DEALER socket with jupyter_client's
    Session, which leaves out most of the blocking client's own overhead."""
    import zmq
    from jupyter_client.session import Session

    info = km.get_connection_info()
    session = Session(key=km.session.key, signature_scheme=info["signature_scheme"], username="bench")
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")
    content = {"code": "1+1", "silent": False, "store_history": True, "user_expressions": {},
               "allow_stdin": False, "stop_on_error": True}
    out = []
    try:
        for i in range(runs + 50):
            t0 = time.perf_counter()
            msg_id = session.send(sock, "execute_request", content)["header"]["msg_id"]
            while True:
                if not sock.poll(60000):
                    raise TimeoutError("no execute_reply on the raw socket")
                _, frames = session.feed_identities(sock.recv_multipart())
                reply = session.deserialize(frames)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            if i >= 50:  # the first ones warm up the new connection
                out.append(time.perf_counter() - t0)
    finally:
        sock.close()
    return out


def table(go, py):
    rows = [
        ("start (median)", "start_s", 1000, "ms", f"<= {GOAL_START_RATIO:.1f}x", lambda r, g: r is not None and r <= GOAL_START_RATIO),
        ("execute p50", "p50_ms", 1, "ms", f"<= {GOAL_P50_RATIO:.1f}x", lambda r, g: r is not None and r <= GOAL_P50_RATIO),
        ("execute p99", "p99_ms", 1, "ms", "", None),
        ("raw zmq p50", "raw_p50_ms", 1, "ms", "", None),
        ("raw zmq p99", "raw_p99_ms", 1, "ms", "", None),
        ("RSS 0.2 s after", "rss_busy_mb", 1, "MB", "", None),
        ("idle RSS (tree)", "rss_mb", 1, "MB", f"<= {GOAL_RSS_MB:.0f} MB", lambda r, g: g <= GOAL_RSS_MB),
        ("idle PSS (tree)", "pss_mb", 1, "MB", "", None),
        ("RSS after runs", "rss_after_mb", 1, "MB", "", None),
        ("PSS after runs", "pss_after_mb", 1, "MB", "", None),
    ]
    head = f"{'metric':<18}{'gopherlab':>14}{'ipykernel':>14}{'ratio':>9}  {'goal':<12}{'met':<4}"
    lines = [head, "-" * len(head)]
    met_all = True
    for label, key, scale, unit, goal, ok in rows:
        g = go[key] * scale if go else None
        p = py[key] * scale if py else None
        ratio = g / p if g is not None and p else None
        met = ""
        if ok is not None and g is not None:
            good = ok(ratio, g)
            met = "yes" if good else "NO"
            met_all = met_all and good
        fmt = (lambda v: f"{v:10.2f} {unit}" if v is not None else f"{'-':>13}")
        lines.append(f"{label:<18}{fmt(g):>14}{fmt(p):>14}{(f'{ratio:.2f}x' if ratio is not None else '-'):>9}  {goal:<12}{met:<4}")
    lines.append("execute: jupyter_client BlockingKernelClient; raw zmq: bare DEALER socket, same messages")
    lines.append("RSS sums each process's resident pages, so pages of the one binary that gopherlab's kernel and worker")
    lines.append("both map count twice; PSS splits shared pages between the processes that map them")
    lines.append("idle: 1.5 s after one cell. After 1 s idle (GOPHERLAB_IDLE_TRIM) gopherlab's processes drop the clean pages of")
    lines.append("their binary from their working set (they stay in the page cache) and return free heap; '0.2 s after' is before")
    for label, r in (("gopherlab", go), ("ipykernel", py)):
        if r:
            for when, key in (("idle", "processes"), ("after runs", "processes_after")):
                procs = ", ".join(f"{p['command']} {p['rss_mb']:.1f} MB" for p in r[key])
                lines.append(f"{label} process tree, {when}: {procs}")
    return "\n".join(lines), met_all


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000, help="measured executions of 1+1 per kernel")
    ap.add_argument("--warmup", type=int, default=100, help="executions before measuring")
    ap.add_argument("--starts", type=int, default=5, help="kernel starts to take the median of")
    ap.add_argument("--gopherlab", default="gopherlab", help="gopherlab kernelspec name")
    ap.add_argument("--ipykernel", default="python3", help="ipykernel kernelspec name")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args()

    ksm = KernelSpecManager()
    results = {}
    for role, name in (("gopherlab", args.gopherlab), ("ipykernel", args.ipykernel)):
        try:
            ksm.get_kernel_spec(name)
        except NoSuchKernel:
            print(f"kernelspec {name!r} not found: {'run make install' if role == 'gopherlab' else 'install python3-ipykernel'}",
                  file=sys.stderr)
            results[role] = None
            continue
        results[role] = bench(name, args.runs, args.starts, args.warmup)

    text, met = table(results["gopherlab"], results["ipykernel"])
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if results["gopherlab"] is None:
        return 1
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
