"""Shared helpers for gopherlab's protocol checks.

The scripts beside this file drive a kernel through jupyter_client the way
frontends do and print one line per check:

    RESULT {"check": "...", "status": "pass" | "fail" | "skip", "detail": "..."}

kernel/integration_test.go runs them against gopherlab and turns each line
into a Go subtest. The kernelspec comes from GL_KERNEL (default
"gopherlab"); GL_KERNEL=python3 runs the same checks against ipykernel,
which is how the checks themselves are validated: code differs per
language (see the CODE tables in each script), expectations do not.
"""

import contextlib
import json
import os
import re
import sys
import time
import traceback
import uuid

from jupyter_client.manager import KernelManager

KERNEL = os.environ.get("GL_KERNEL", "gopherlab")
TIMEOUT = float(os.environ.get("GL_TIMEOUT", "30"))

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(s):
    return ANSI.sub("", s)


def emit(check, status, detail=""):
    print("RESULT " + json.dumps({"check": check, "status": status, "detail": detail}), flush=True)


class Skip(Exception):
    """Raised inside a check that does not apply to this kernel."""


def short(msg_id):
    """The distinguishing tail of a message id (jupyter_client's share a session prefix)."""
    return msg_id[-12:]


def brief(msg):
    """A compact, readable form of a message for failure reports."""
    out = {"msg_type": msg["header"]["msg_type"], "content": msg.get("content")}
    parent = msg.get("parent_header") or {}
    if parent.get("msg_id"):
        out["parent"] = parent.get("msg_type", "") + ":" + short(parent["msg_id"])
    text = json.dumps(out, default=str)
    return text if len(text) < 600 else text[:600] + "..."


class Kernel:
    """One started kernel with a blocking client and a message log."""

    def __init__(self, name=KERNEL):
        self.name = name
        self.km = None
        self.kc = None
        self.log = []  # (arrival time, channel, msg) of everything received
        self.requests = []  # (msg_type, msg_id) of every shell request sent
        self.start()

    def start(self):
        self.km = KernelManager(kernel_name=self.name)
        self.km.start_kernel()
        self.connect()

    def connect(self):
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)
        info = self.request("kernel_info")
        self.info = info["reply"]["content"]
        self.lang = self.info.get("language_info", {}).get("name", "")

    def stop(self):
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)

    def process(self):
        """The kernel's Popen object (jupyter_client's local provisioner)."""
        return getattr(self.km.provisioner, "process", None)

    def ensure_alive(self):
        """Restarts a dead kernel so one failing check does not fail the rest."""
        if self.km.is_alive():
            return False
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        self.km.restart_kernel(now=True)
        self.connect()
        return True

    def settle(self):
        """After a failed check: lets pending work finish so the next check
        starts from an idle kernel; restarts a kernel that stays busy."""
        try:
            time.sleep(0.3)
            while self._recv("iopub", 0.1):
                pass
            self.request("kernel_info", timeout=10)
        except Exception:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
            self.km.restart_kernel(now=True)
            self.connect()

    def recent(self, n=25):
        return "\n".join(f"  {ch}: {brief(m)}" for _, ch, m in self.log[-n:])

    # -- receiving ---------------------------------------------------------

    def _recv(self, channel, timeout):
        get = {
            "iopub": self.kc.get_iopub_msg,
            "shell": self.kc.get_shell_msg,
            "stdin": self.kc.get_stdin_msg,
            "control": self.kc.get_control_msg,
        }[channel]
        try:
            msg = get(timeout=timeout)
        except Exception:  # queue.Empty
            return None
        self.log.append((time.monotonic(), channel, msg))
        return msg

    def reply(self, msg_id, channel="shell", timeout=TIMEOUT):
        """Waits for the reply to msg_id, ignoring replies to others."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._recv(channel, min(0.2, max(0.01, deadline - time.monotonic())))
            if msg and msg["parent_header"].get("msg_id") == msg_id:
                return msg
        raise AssertionError(f"no {channel} reply to {short(msg_id)} within {timeout:.0f}s; recent messages:\n{self.recent()}")

    def iopub_until_idle(self, msg_id, timeout=TIMEOUT, stdin_handler=None):
        """Collects (arrival time, msg) on iopub with parent msg_id until its idle."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stdin_handler is not None:
                req = self._recv("stdin", 0.01)
                if req is not None:
                    stdin_handler(req)
            msg = self._recv("iopub", 0.05)
            if msg is None:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            got.append((time.monotonic(), msg))
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return got
        raise AssertionError(
            f"no idle status for {short(msg_id)} within {timeout:.0f}s; received for it:\n"
            + "\n".join("  " + brief(m) for _, m in got)
            + f"\nrecent messages:\n{self.recent()}"
        )

    # -- requests ----------------------------------------------------------

    def request(self, kind, timeout=TIMEOUT, **kw):
        """Sends a shell request through the client's method `kind` and returns
        {"reply": msg, "iopub": [msg, ...], "times": [t, ...], "msg_id": id}."""
        msg_id = getattr(self.kc, kind)(**kw)
        self.requests.append((kind + "_request", msg_id))
        return self._finish(msg_id, timeout)

    def send_shell(self, msg_type, content, timeout=TIMEOUT, expect_reply=True):
        """Sends any shell message built by the client's session."""
        msg = self.kc.session.msg(msg_type, content)
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        self.requests.append((msg_type, msg_id))
        if not expect_reply:
            got = self.iopub_until_idle(msg_id, timeout)
            return {"reply": None, "iopub": [m for _, m in got], "times": [t for t, _ in got], "msg_id": msg_id}
        return self._finish(msg_id, timeout)

    def _finish(self, msg_id, timeout, stdin_handler=None):
        got = self.iopub_until_idle(msg_id, timeout, stdin_handler)
        rep = self.reply(msg_id, "shell", timeout)
        return {"reply": rep, "iopub": [m for _, m in got], "times": [t for t, _ in got], "msg_id": msg_id}

    def execute(self, code, timeout=TIMEOUT, stdin_handler=None, **kw):
        msg_id = self.kc.execute(code, allow_stdin=stdin_handler is not None, **kw)
        self.requests.append(("execute_request", msg_id))
        res = self._finish(msg_id, timeout, stdin_handler)
        if self.lang == "python" and res["reply"]["content"].get("status") == "aborted":
            # ipykernel 6.17 aborts requests that arrive right after an error
            # reply, before its abort window closes (a race of its own). Only
            # tolerated for ipykernel: gopherlab must not abort them.
            time.sleep(0.2)
            return self.execute(code, timeout, stdin_handler, **kw)
        return res

    def status_wrapped(self, msg_id):
        """Whether iopub carried busy ... idle with msg_id as parent, in order."""
        states = [
            m["content"]["execution_state"]
            for _, ch, m in self.log
            if ch == "iopub" and m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id
        ]
        return states[:1] == ["busy"] and states[-1:] == ["idle"], states


# -- result helpers ---------------------------------------------------------


def of_type(res, msg_type):
    return [m for m in res["iopub"] if m["msg_type"] == msg_type]


def stdout(res):
    return "".join(m["content"]["text"] for m in of_type(res, "stream") if m["content"]["name"] == "stdout")


def all_streams(res):
    return "".join(m["content"]["text"] for m in of_type(res, "stream"))


def describe(res):
    lines = [f"  reply: {brief(res['reply'])}" if res.get("reply") else "  reply: none"]
    lines += ["  iopub: " + brief(m) for m in res["iopub"]]
    return "\n".join(lines)


def expect(cond, what, res=None):
    if not cond:
        raise AssertionError(what + ("\n" + describe(res) if res is not None else ""))


def expect_ok(res, what=""):
    content = res["reply"]["content"]
    if content.get("status") != "ok":
        prefix = what + ": " if what else ""
        raise AssertionError(f"{prefix}reply status {content.get('status')!r}, want 'ok'\n{describe(res)}")


class Runner:
    """Runs named checks against one Kernel and prints their RESULT lines."""

    def __init__(self, kernel):
        self.k = kernel
        self.failed = 0

    def __call__(self, name, fn, only=None):
        """Runs fn() as check `name`; only, if set, lists the languages it applies to."""
        try:
            self.k.ensure_alive()
            if only and self.k.lang not in only:
                raise Skip(f"{self.k.lang} kernel: check applies to {', '.join(only)} only")
            fn()
        except Skip as e:
            emit(name, "skip", str(e))
        except Exception as e:  # AssertionError and anything a client call raised
            self.failed += 1
            detail = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
            if not self.k.km.is_alive():
                detail += "\n(the kernel process is dead)"
            emit(name, "fail", detail)
            with contextlib.suppress(Exception):
                self.k.settle()
        else:
            emit(name, "pass")


def new_id():
    return uuid.uuid4().hex


def main(checks):
    """Starts a kernel, runs checks(runner, kernel), stops the kernel."""
    try:
        k = Kernel()
    except Exception:
        emit("start", "fail", f"kernel {KERNEL!r} did not start:\n{traceback.format_exc()}")
        sys.exit(1)
    emit("start", "pass", f"{KERNEL}: {k.info.get('implementation')} {k.info.get('implementation_version')}")
    run = Runner(k)
    try:
        checks(run, k)
    finally:
        k.stop()
    sys.exit(1 if run.failed else 0)
