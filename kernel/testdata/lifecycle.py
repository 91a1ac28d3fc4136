"""Kernel lifecycle: the iopub welcome message (JEP 65), restart through
shutdown_request(restart=True), and final shutdown.

Run: /usr/bin/python3 lifecycle.py   (GL_KERNEL=python3 to check against ipykernel)
"""

import os
import signal
import subprocess
import sys
import time

import zmq
from jupyter_client.session import Session

import harness
from harness import TIMEOUT, expect, expect_ok, of_type

CODE = {
    "go": {"set": "restartProbe := 5", "use": "restartProbe", "after": "1+1"},
    "python": {"set": "restartProbe = 5", "use": "restartProbe", "after": "1+1"},
}


def children(pid):
    """The pids of a process's children (Linux /proc)."""
    kids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids  # gone already
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return kids


def alive(pid):
    """Whether pid runs (a zombie does not: its parent has not reaped it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def checks(run, k):
    code = CODE[k.lang]

    def raw_iopub():
        info = k.km.get_connection_info()
        sock = zmq.Context.instance().socket(zmq.SUB)
        sock.linger = 0
        sock.setsockopt(zmq.SUBSCRIBE, b"")
        sock.connect(f"{info['transport']}://{info['ip']}:{info['iopub_port']}")
        session = Session(key=k.km.session.key, signature_scheme=info["signature_scheme"])
        return sock, session

    def recv_raw(sock, session, timeout):
        """Next verified message on a raw iopub socket, or None."""
        if not sock.poll(int(timeout * 1000)):
            return None
        frames = sock.recv_multipart()
        _, frames = session.feed_identities(frames)
        return session.deserialize(frames)  # raises on a bad signature

    def iopub_welcome():
        # Protocol 5.4: a kernel with an XPUB iopub socket greets each new
        # subscriber, so clients know their subscription is live.
        sock, session = raw_iopub()
        try:
            got = []
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                msg = recv_raw(sock, session, max(0.01, deadline - time.monotonic()))
                if msg is None:
                    break
                got.append(msg)
                if msg["msg_type"] == "iopub_welcome":
                    break
            welcome = [m for m in got if m["msg_type"] == "iopub_welcome"]
            expect(welcome, "no iopub_welcome within 5s of subscribing; got: " + ", ".join(m["msg_type"] for m in got))
            expect(welcome[0]["content"].get("subscription") == "",
                   f"iopub_welcome content {welcome[0]['content']}, want subscription ''")
            # The subscription is live: the raw socket sees the next request's status.
            msg_id = k.kc.kernel_info()
            k.reply(msg_id)
            deadline = time.monotonic() + 5
            seen = False
            while time.monotonic() < deadline and not seen:
                msg = recv_raw(sock, session, 0.5)
                seen = bool(msg and msg["parent_header"].get("msg_id") == msg_id)
            expect(seen, "raw iopub subscriber saw no status for a later request")
        finally:
            sock.close()

    def shutdown_restart():
        expect_ok(k.execute(code["set"]))
        proc = k.process()
        req = k.kc.session.msg("shutdown_request", {"restart": True})
        k.kc.control_channel.send(req)
        rep = k.reply(req["header"]["msg_id"], "control", timeout=10)
        expect(rep["msg_type"] == "shutdown_reply", f"got {harness.brief(rep)}, want shutdown_reply")
        expect(rep["content"].get("status") == "ok" and rep["content"].get("restart") is True,
               f"shutdown_reply content {rep['content']}, want status ok, restart true")
        # The kernel exits by itself; restarting is the manager's job.
        try:
            rc = proc.wait(timeout=5)
        except Exception:
            raise AssertionError("the kernel process did not exit within 5s of shutdown_request(restart=True)")
        expect(rc == 0, f"kernel exit status {rc}, want 0")
        k.km.restart_kernel(now=True)
        k.kc.wait_for_ready(timeout=TIMEOUT)
        res = k.request("kernel_info")
        expect_ok(res)
        res = k.execute(code["use"])
        expect(res["reply"]["content"].get("status") == "error",
               "a variable defined before the restart still exists", res)
        expect_ok(k.execute(code["after"]))

    def shutdown():
        proc = k.process()
        msg_id = k.kc.shutdown(restart=False)
        rep = k.reply(msg_id, "control", timeout=10)
        expect(rep["content"].get("status") == "ok" and rep["content"].get("restart") is False,
               f"shutdown_reply content {rep['content']}, want status ok, restart false")
        try:
            rc = proc.wait(timeout=5)
        except Exception:
            raise AssertionError("the kernel process did not exit within 5s of shutdown_request")
        expect(rc == 0, f"kernel exit status {rc}, want 0")
        expect(not k.km.is_alive(), "the kernel manager still sees the kernel alive")

    def parent_death():
        # A process starts a kernel through Jupyter's KernelManager, has a
        # cell run (so the worker is up), then dies without stopping it:
        # the kernel and its worker must go too, as ipykernel does. (The
        # kernel must not hold the launcher's output pipe, or run() would
        # wait for it.)
        script = (
            "import os, sys\n"
            "from jupyter_client import KernelManager\n"
            "km = KernelManager(kernel_name=sys.argv[1])\n"
            "import subprocess\n"
            "km.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)\n"
            "kc.execute_interactive(sys.argv[2], timeout=60)\n"
            "print('\\npid=%d' % km.provisioner.process.pid, flush=True)\n"
            "os._exit(0)\n"
        )
        out = subprocess.run([sys.executable, "-c", script, k.name, CODE[k.lang]["after"]],
                             capture_output=True, text=True, timeout=120)
        last = out.stdout.strip().splitlines()[-1:]  # the cell's output comes first
        expect(out.returncode == 0 and last and last[0].startswith("pid="), f"launcher failed: {out.returncode}\n{out.stdout}{out.stderr}")
        pid = int(last[0][4:])
        family = [pid] + children(pid)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(p) for p in family):
            time.sleep(0.1)
        left = [p for p in family if alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        expect(not left, f"processes {left} of the orphaned kernel {pid} still run 10s after its parent died")

    run("iopub_welcome", iopub_welcome, only=["go"])
    run("parent_death", parent_death)
    run("shutdown_restart", shutdown_restart)
    run("shutdown", shutdown)


if __name__ == "__main__":
    harness.main(checks)
