"""What a kernel must survive: interrupts, goroutine panics, stack overflow,
and messages with a forged signature.

Run: /usr/bin/python3 survival.py   (GL_KERNEL=python3 to check against ipykernel)
"""

import os
import signal
import re
import tempfile
import time

import zmq
from jupyter_client.session import Session

import harness
from harness import TIMEOUT, describe, expect, expect_ok, of_type, stdout

CODE = {
    "go": {
        "keep": "keep := 7",
        "keep_use": "keep",
        "loop": "for {\n}",
        # A read that blocks in compiled code (time.Sleep itself is
        # interruptible in cells).
        "sleep": 'import (\n\t"os"\n\t"time"\n)\nr, _, _ := os.Pipe()\nr.SetReadDeadline(time.Now().Add(20 * time.Second))\nr.Read(make([]byte, 1))',
        "goroutine_panic": 'import "time"\ngo func() { panic("boom") }()\ntime.Sleep(2 * time.Second)',
        "recursion_def": "func f(n int) int { return f(n+1) + 1 }",
        "recursion_call": "f(0)",
        "after": "1+1",
        "touch": 'import "os"\nos.WriteFile({path!r}, []byte("forged"), 0o644)',
        "input_then_print": 'import "fmt"\nvar answer string\nfmt.Scanln(&answer)\nfmt.Println("after the read", answer)',
    },
    "python": {
        "keep": "keep = 7",
        "keep_use": "keep",
        "loop": "while True:\n    pass",
        "sleep": "import time\ntime.sleep(20)",
        "recursion_def": "def f(n):\n    return f(n+1) + 1",
        "recursion_call": "f(0)",
        "after": "1+1",
        "touch": "open({path!r}, 'w').close()",
        "input_then_print": "answer = input()\nprint('after the read', answer)",
    },
}


def go_string(s):
    """A Go string literal for s (repr quotes are not Go syntax)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def checks(run, k):
    code = CODE[k.lang]

    def pid():
        p = k.process()
        return p.pid if p else None

    def result_text(res):
        return [m["content"]["data"].get("text/plain") for m in of_type(res, "execute_result")]

    def interrupted(res, what):
        c = res["reply"]["content"]
        expect(c.get("status") == "error", f"{what}: reply status {c.get('status')!r}, want 'error'", res)
        expect(re.search("interrupt", c.get("ename", "") + " " + c.get("evalue", ""), re.I),
               f"{what}: ename {c.get('ename')!r} evalue {c.get('evalue')!r} do not say interrupted", res)
        expect(len(of_type(res, "error")) == 1, f"{what}: want exactly one iopub error", res)

    def start_cell(cell):
        """Sends an execute request and waits until the kernel is running it."""
        msg_id = k.kc.execute(cell)
        k.requests.append(("execute_request", msg_id))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = k._recv("iopub", 0.1)
            if not msg or msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "execute_input":
                time.sleep(0.5)  # let the cell really start running
                return msg_id
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                raise AssertionError(f"cell ended before it started (aborted?):\n{k.recent()}")
        raise AssertionError(f"cell never started:\n{k.recent()}")

    def interrupt():
        if k.lang == "go":
            mode = k.km.kernel_spec.interrupt_mode
            expect(mode == "message", f"kernelspec interrupt_mode {mode!r}, want 'message'")
        expect_ok(k.execute(code["keep"]))
        before = pid()
        msg_id = start_cell(code["loop"])
        t0 = time.monotonic()
        k.km.interrupt_kernel()
        res = k._finish(msg_id, timeout=10)
        elapsed = time.monotonic() - t0
        interrupted(res, "interrupt of an endless loop")
        expect(elapsed < 5, f"interrupt took {elapsed:.1f}s, want < 5s", res)
        res = k.execute(code["keep_use"])
        expect_ok(res)
        expect(result_text(res) == ["7"], f"variable set before the interrupt reads {result_text(res)}, want ['7']", res)
        expect(pid() == before, "the kernel process was replaced")

    def interrupt_control():
        # The message form frontends use with interrupt_mode "message": an
        # interrupt_request on the control channel gets an interrupt_reply.
        msg_id = start_cell(code["loop"])
        req = k.kc.session.msg("interrupt_request", {})
        k.kc.control_channel.send(req)
        rep = k.reply(req["header"]["msg_id"], "control", timeout=10)
        # ipykernel 6.17 replies with empty content; the spec asks for a status.
        status = rep["content"].get("status", "ok" if k.lang == "python" else None)
        expect(rep["msg_type"] == "interrupt_reply" and status == "ok",
               f"control reply {harness.brief(rep)}, want interrupt_reply status ok")
        res = k._finish(msg_id, timeout=10)
        interrupted(res, "control-channel interrupt")
        expect_ok(k.execute(code["after"]))

    def interrupt_signal():
        # SIGINT to the kernel process (interrupt_mode "signal", or Ctrl-C
        # in a terminal) interrupts the running cell like the message does.
        before = pid()
        msg_id = start_cell(code["loop"])
        os.kill(before, signal.SIGINT)
        res = k._finish(msg_id, timeout=10)
        interrupted(res, "SIGINT to the kernel")
        expect(k.km.is_alive() and pid() == before, "SIGINT killed or replaced the kernel", res)
        expect_ok(k.execute(code["after"]))

    def interrupt_blocked():
        # A cell blocked in a call the interpreter cannot preempt.
        msg_id = start_cell(code["sleep"])
        t0 = time.monotonic()
        k.km.interrupt_kernel()
        res = k._finish(msg_id, timeout=15)
        elapsed = time.monotonic() - t0
        expect(res["reply"]["content"].get("status") == "error", "interrupted sleep did not end in an error", res)
        expect(elapsed < 8, f"interrupting a sleeping cell took {elapsed:.1f}s, want < 8s", res)
        res = k.execute(code["after"])
        expect_ok(res)
        expect(result_text(res) == ["2"], f"next cell gave {result_text(res)}", res)

    def interrupt_input():
        # Interrupted while it waits for input, a cell stops at the read
        # (Python's input() raises KeyboardInterrupt): what follows the
        # read does not run, and the session keeps its state.
        expect_ok(k.execute(code["keep"]))
        msg_id = k.kc.execute(code["input_then_print"], allow_stdin=True)
        k.requests.append(("execute_request", msg_id))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            req = k._recv("stdin", 0.1)
            if req and req["msg_type"] == "input_request":
                break
        else:
            raise AssertionError(f"no input_request:\n{k.recent()}")
        k.km.interrupt_kernel()
        res = k._finish(msg_id, timeout=15)
        interrupted(res, "interrupt during input")
        expect("after the read" not in stdout(res), f"the cell ran on past the interrupted read: {stdout(res)!r}", res)
        res = k.execute(code["keep_use"])
        expect(result_text(res) == ["7"], f"state after the interrupt: {result_text(res)}", res)

    def survives(cell, what, must_mention):
        before = pid()
        res = k.execute(cell, timeout=90)
        c = res["reply"]["content"]
        expect(c.get("status") == "error", f"{what}: reply status {c.get('status')!r}, want 'error'", res)
        errs = of_type(res, "error")
        expect(len(errs) == 1, f"{what}: {len(errs)} iopub error messages, want 1", res)
        text = harness.strip_ansi(" ".join([c.get("ename", ""), c.get("evalue", "")] + c.get("traceback", [])))
        for pattern in must_mention:
            expect(re.search(pattern, text, re.I), f"{what}: error does not mention /{pattern}/: {text[:1000]}", res)
        expect(k.km.is_alive() and pid() == before, f"{what}: the kernel process died or was replaced", res)
        res = k.execute(code["after"])
        expect_ok(res)
        expect(result_text(res) == ["2"], f"{what}: next cell gave {result_text(res)}, want ['2']", res)

    def goroutine_panic():
        survives(code["goroutine_panic"], "panic in a goroutine", ["boom", "restart"])

    def stack_overflow():
        expect_ok(k.execute(code["recursion_def"]), "defining the recursive function")
        must = ["restart"] if k.lang == "go" else ["recursion"]
        survives(code["recursion_call"], "infinite recursion", must)

    def forged_signature():
        info = k.km.get_connection_info()
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")
        try:
            path = os.path.join(tempfile.mkdtemp(prefix="gl-forged-"), "forged")
            lit = go_string(path) if k.lang == "go" else repr(path)
            cell = code["touch"].replace("{path!r}", lit)
            forged_ids = []
            for key in (b"not-the-connection-key", b""):
                # b"" signs nothing: an unsigned message must be dropped too.
                bad = Session(key=key, signature_scheme=info["signature_scheme"], username="forger")
                m = bad.send(sock, "execute_request", {"code": cell, "silent": False, "store_history": True,
                                                       "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
                forged_ids.append(m["header"]["msg_id"])
            # A tampered content under a valid signature of other content.
            good = Session(key=k.km.session.key, signature_scheme=info["signature_scheme"], username="tester")
            msg = good.msg("execute_request", {"code": "1", "silent": False, "store_history": True,
                                               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
            frames = good.serialize(msg)
            frames[-1] = good.pack({"code": cell, "silent": False, "store_history": True, "user_expressions": {},
                                    "allow_stdin": False, "stop_on_error": True})
            sock.send_multipart(frames)
            forged_ids.append(msg["header"]["msg_id"])

            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            replies = []
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                if poller.poll(100):
                    replies.append(sock.recv_multipart())
            expect(not replies, f"the kernel answered forged messages: {replies[:2]}")
            expect(not os.path.exists(path), "a forged execute_request ran: the file it writes exists")
            while k._recv("iopub", 0.05):
                pass
            seen = [harness.brief(m) for _, ch, m in k.log if m["parent_header"].get("msg_id") in forged_ids]
            expect(not seen, "iopub messages answer a forged request:\n  " + "\n  ".join(seen))

            # A correctly signed request on the same socket is answered.
            ok = good.send(sock, "kernel_info_request", {})
            if not poller.poll(int(TIMEOUT * 1000)):
                raise AssertionError("no reply to a correctly signed request after forged ones")
            idents, reply = good.feed_identities(sock.recv_multipart())
            reply = good.deserialize(reply)  # verifies the kernel's signature
            expect(reply["parent_header"]["msg_id"] == ok["header"]["msg_id"] and reply["msg_type"] == "kernel_info_reply",
                   f"unexpected reply {harness.brief(reply)}")
        finally:
            sock.close()
        expect_ok(k.execute(code["after"]))

    run("interrupt", interrupt)
    run("interrupt_control", interrupt_control)
    run("interrupt_signal", interrupt_signal)
    run("interrupt_blocked", interrupt_blocked)
    run("interrupt_input", interrupt_input)
    run("goroutine_panic", goroutine_panic, only=["go"])
    run("stack_overflow", stack_overflow)
    run("forged_signature", forged_signature)


if __name__ == "__main__":
    harness.main(checks)
