"""Kernel lifecycle: the iopub welcome message (JEP 65), restart through
shutdown_request(restart=True), and final shutdown.

Run: /usr/bin/python3 lifecycle.py   (GL_KERNEL=python3 to check against ipykernel)
"""

import time

import zmq
from jupyter_client.session import Session

import harness
from harness import TIMEOUT, expect, expect_ok, of_type

CODE = {
    "go": {"set": "restartProbe := 5", "use": "restartProbe", "after": "1+1"},
    "python": {"set": "restartProbe = 5", "use": "restartProbe", "after": "1+1"},
}


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

    run("iopub_welcome", iopub_welcome, only=["go"])
    run("shutdown_restart", shutdown_restart)
    run("shutdown", shutdown)


if __name__ == "__main__":
    harness.main(checks)
