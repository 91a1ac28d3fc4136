"""Shell-channel conformance: kernel_info, execute, errors, streams, stdin,
completion, inspection, is_complete, history, comms, display and magics.

Run: /usr/bin/python3 core.py   (GL_KERNEL=python3 to check against ipykernel)
"""

import re
import time

import harness
from harness import Skip, all_streams, describe, expect, expect_ok, of_type, stdout

# Code per kernel language for the checks that execute something.
CODE = {
    "go": {
        "result": "6*7",
        "mixed": 'import "fmt"\nx := 2\nfmt.Println(x*21)',
        "state_set": "answer := 40",
        "state_use": "answer + 2",
        "reimport": 'import "fmt"\nfmt.Println("again")',
        "error": 'y := 1\nz := undefined_thing + 1\n_ = y',
        "fail_fast": 'panic("first")',
        "timing": 'import (\n\t"fmt"\n\t"time"\n)\nfmt.Println("a")\ntime.Sleep(500 * time.Millisecond)\nfmt.Println("b")',
        "stdin": 'import "fmt"\nvar s string\nfmt.Scanln(&s)\nfmt.Println("got", s)',
        "complete": ('import "strings"', "strings.Rep", "strings.Repeat"),
        # go doc prints "func Repeat(...)"; a qualified name is as good.
        "inspect": ("strings.Repeat", r"func (strings\.)?Repeat\("),
        "incomplete": "func f() {",
        "complete_code": "x := 1",
        "history_marker": 'histMarker := "h1"',
        "display_html": 'import "github.com/gopherlab/gopherlab/display"\ndisplay.HTML("<b>hi</b>")',
        "display_update": 'import "github.com/gopherlab/gopherlab/display"\nh := display.NewHTML("a")\nh.UpdateHTML("b")',
        "display_clear": 'import "github.com/gopherlab/gopherlab/display"\ndisplay.Clear()',
        "magic_help": ("%help", ["%time", "%reset", "%env"]),
        "magic_shell": "!echo hi",
        "magic_time": "%time 6*7",
        "user_expr": ("ue := 6", {"ok": "ue * 7", "bad": "no_such_name + 1"}),
    },
    "python": {
        "result": "6*7",
        "mixed": "import sys\nx = 2\nprint(x*21)",
        "state_set": "answer = 40",
        "state_use": "answer + 2",
        "reimport": "import sys\nprint('again')",
        "error": "y = 1\nz = undefined_thing + 1\ny",
        "fail_fast": "raise RuntimeError('first')",
        "timing": 'import time\nprint("a", flush=True)\ntime.sleep(0.5)\nprint("b", flush=True)',
        "stdin": 's = input()\nprint("got", s)',
        "complete": ("import os", "os.getcw", "os.getcwd"),
        "inspect": ("len", r"Return the number of items"),
        "incomplete": "def f():",
        "complete_code": "x = 1",
        "history_marker": 'histMarker = "h1"',
        "display_html": 'from IPython.display import display, HTML\ndisplay(HTML("<b>hi</b>"))',
        "display_update": 'from IPython.display import display, HTML\nh = display(HTML("a"), display_id=True)\nh.update(HTML("b"))',
        "display_clear": "from IPython.display import clear_output\nclear_output()",
        "magic_help": ("%lsmagic", ["%time", "%reset", "%env"]),
        "magic_shell": "!echo hi",
        "magic_time": "%time 6*7",
        "user_expr": ("ue = 6", {"ok": "ue * 7", "bad": "no_such_name + 1"}),
    },
}


def checks(run, k):
    code = CODE.get(k.lang)
    if code is None:
        raise SystemExit(f"no test code for language {k.lang!r}")

    def kernel_info():
        res = k.request("kernel_info")
        c = res["reply"]["content"]
        expect_ok(res)
        v = tuple(int(p) for p in c.get("protocol_version", "0").split(".")[:2])
        expect(v >= (5, 3), f"protocol_version {c.get('protocol_version')!r}, want >= 5.3")
        hv = res["reply"]["header"].get("version", "0")
        expect(tuple(int(p) for p in hv.split(".")[:2]) >= (5, 2), f"header version {hv!r}, want >= 5.2")
        expect(c.get("implementation"), "implementation missing")
        expect(isinstance(c.get("implementation_version"), str), "implementation_version missing")
        li = c.get("language_info") or {}
        want = {
            "go": {"name": "go", "mimetype": "text/x-go", "file_extension": ".go", "pygments_lexer": "go", "codemirror_mode": "go"},
            "python": {"name": "python", "mimetype": "text/x-python", "file_extension": ".py"},
        }[k.lang]
        for key, val in want.items():
            expect(li.get(key) == val, f"language_info[{key!r}] = {li.get(key)!r}, want {val!r}; language_info = {li}")
        for key in ("version", "pygments_lexer", "codemirror_mode"):
            expect(li.get(key), f"language_info[{key!r}] missing: {li}")
        expect(isinstance(c.get("banner"), str) and c["banner"], "banner missing or empty")
        expect(isinstance(c.get("help_links"), list), f"help_links = {c.get('help_links')!r}, want a list")
        for link in c["help_links"]:
            expect(set(link) >= {"text", "url"}, f"help link {link} lacks text/url")

    def execute_result():
        res = k.execute(code["result"])
        expect_ok(res)
        results = of_type(res, "execute_result")
        expect(len(results) == 1, f"{len(results)} execute_result messages, want 1", res)
        data = results[0]["content"]["data"]
        expect(data.get("text/plain") == "42", f"text/plain = {data.get('text/plain')!r}, want '42'", res)
        expect(
            results[0]["content"].get("execution_count") == res["reply"]["content"].get("execution_count"),
            "execute_result execution_count differs from the reply's",
            res,
        )

    def mixed_cell():
        res = k.execute(code["mixed"])
        expect_ok(res)
        expect(stdout(res) == "42\n", f"stdout {stdout(res)!r}, want '42\\n'", res)
        expect(not of_type(res, "execute_result"), "a cell ending in a call with no value published a result", res)

    def state():
        expect_ok(k.execute(code["state_set"]))
        res = k.execute(code["state_use"])
        expect_ok(res)
        got = [m["content"]["data"].get("text/plain") for m in of_type(res, "execute_result")]
        expect(got == ["42"], f"results {got}, want ['42']", res)

    def reimport():
        expect_ok(k.execute(code["mixed"]))
        res = k.execute(code["reimport"])
        expect_ok(res)
        expect(stdout(res) == "again\n", f"stdout {stdout(res)!r}, want 'again\\n'", res)

    def execute_input_and_count():
        counts = []
        for _ in range(3):
            res = k.execute(code["result"])
            expect_ok(res)
            inputs = of_type(res, "execute_input")
            expect(len(inputs) == 1, f"{len(inputs)} execute_input messages, want 1", res)
            expect(inputs[0]["content"].get("code") == code["result"], "execute_input code differs", res)
            n = res["reply"]["content"].get("execution_count")
            expect(inputs[0]["content"].get("execution_count") == n, "execute_input execution_count differs from reply", res)
            types = [m["msg_type"] for m in res["iopub"]]
            expect(types.index("execute_input") < types.index("execute_result"), f"execute_input after result: {types}", res)
            counts.append(n)
        expect(all(isinstance(n, int) for n in counts) and counts[1] == counts[0] + 1 and counts[2] == counts[1] + 1,
               f"execution counts {counts}, want consecutive integers")
        # silent=True does not count and publishes nothing but status.
        res = k.execute(code["result"], silent=True)
        expect_ok(res)
        types = [m["msg_type"] for m in res["iopub"]]
        expect(types == ["status", "status"], f"silent execute published {types}", res)
        res = k.execute(code["result"])
        expect(res["reply"]["content"].get("execution_count") == counts[2] + 1,
               f"execution_count after a silent cell = {res['reply']['content'].get('execution_count')}, want {counts[2] + 1}", res)

    def error():
        res = k.execute(code["error"])
        c = res["reply"]["content"]
        expect(c.get("status") == "error", f"reply status {c.get('status')!r}, want 'error'", res)
        for key in ("ename", "evalue", "traceback"):
            expect(key in c, f"error reply lacks {key}", res)
        types = [m["msg_type"] for m in res["iopub"]]
        errs = of_type(res, "error")
        expect(len(errs) == 1, f"{len(errs)} iopub error messages, want exactly 1: {types}", res)
        i = types.index("error")
        expect("execute_input" in types[:i] and types[i + 1:] == ["status"], f"error not between execute_input and idle: {types}", res)
        tb = errs[0]["content"].get("traceback")
        expect(isinstance(tb, list) and tb and all(isinstance(s, str) for s in tb),
               f"traceback {tb!r}, want a non-empty list of strings", res)
        text = harness.strip_ansi("\n".join(tb) + "\n" + errs[0]["content"].get("evalue", ""))
        expect(re.search(r"line 2\b|:2:\d|--+> ?2\b", text), f"traceback does not point at line 2:\n{text}", res)
        expect("undefined_thing" in text, f"traceback does not name undefined_thing:\n{text}", res)
        # The kernel keeps working.
        expect_ok(k.execute(code["result"]))

    def stop_on_error():
        # Three cells sent at once, as a frontend's "Run All" does (the
        # requests made together, then sent): the first fails at once, so
        # the two queued behind it are aborted, every time, even when they
        # reach the kernel after it replied (a race would let them run).
        for _ in range(10):
            msgs = [k.kc.session.msg("execute_request", {"code": src, "silent": False, "store_history": True,
                                                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
                    for src in (code["fail_fast"], code["result"], code["result"])]
            for m in msgs:
                k.kc.shell_channel.send(m)
                k.requests.append(("execute_request", m["header"]["msg_id"]))
            ids = [m["header"]["msg_id"] for m in msgs]
            # The replies and idles of all three, in whatever order.
            status, idle = {}, set()
            deadline = time.monotonic() + harness.TIMEOUT
            while (len(status) < 3 or len(idle) < 3) and time.monotonic() < deadline:
                m = k._recv("shell", 0.01)
                if m and m["parent_header"].get("msg_id") in ids:
                    status[m["parent_header"]["msg_id"]] = m["content"].get("status")
                m = k._recv("iopub", 0.01)
                if m and m["msg_type"] == "status" and m["content"].get("execution_state") == "idle":
                    idle.add(m["parent_header"].get("msg_id"))
            got = [status.get(i) for i in ids]
            expect(got == ["error", "aborted", "aborted"], f"statuses {got}, want error, aborted, aborted")
            expect(set(ids) <= idle, f"not every request ended idle:\n{k.recent()}")
        # A cell sent after the error was seen runs.
        expect_ok(k.execute(code["result"]))

    def stream_timing():
        res = k.execute(code["timing"])
        expect_ok(res)
        streams = [(t, m["content"]["text"]) for t, m in zip(res["times"], res["iopub"]) if m["msg_type"] == "stream"]
        text = "".join(s for _, s in streams)
        expect(text == "a\nb\n", f"stdout {text!r}, want 'a\\nb\\n'", res)
        ta = next(t for t, s in streams if "a" in s)
        tb = next(t for t, s in streams if "b" in s)
        expect(tb - ta >= 0.3, f"'a' and 'b' arrived {tb - ta:.3f}s apart, want >= 0.3s (output is not streamed live)", res)

    def stdin():
        prompts = []

        def answer(req):
            expect(req["msg_type"] == "input_request", f"stdin message {req['msg_type']}, want input_request")
            prompts.append(req["content"])
            k.kc.input("hello")

        res = k.execute(code["stdin"], stdin_handler=answer)
        expect_ok(res)
        expect(len(prompts) == 1, f"{len(prompts)} input_request messages, want 1", res)
        expect("prompt" in prompts[0] and "password" in prompts[0], f"input_request content {prompts[0]}")
        expect(stdout(res).endswith("got hello\n"), f"stdout {stdout(res)!r}, want 'got hello\\n'", res)

    def stdin_not_allowed():
        if k.lang != "go":
            raise Skip("ipykernel raises StdinNotImplementedError; only the gopherlab behaviour is specified")
        # Without allow_stdin the read must fail fast instead of hanging the cell.
        res = k.execute(code["stdin"], timeout=10)
        expect(res["reply"]["content"].get("status") in ("ok", "error"), "no reply", res)

    def complete():
        setup, text, want = code["complete"]
        expect_ok(k.execute(setup))
        res = k.request("complete", code=text, cursor_pos=len(text))
        expect_ok(res)
        c = res["reply"]["content"]
        for key in ("matches", "cursor_start", "cursor_end", "metadata", "status"):
            expect(key in c, f"complete_reply lacks {key}: {c}", res)
        expect(c["cursor_end"] == len(text), f"cursor_end {c['cursor_end']}, want {len(text)}", res)
        expect(0 <= c["cursor_start"] <= c["cursor_end"], f"cursor_start {c['cursor_start']} out of range", res)
        full = [text[: c["cursor_start"]] + m for m in c["matches"]]
        expect(want in full, f"no match completes {text!r} to {want!r}; cursor_start={c['cursor_start']} matches={c['matches'][:20]}", res)
        # Completing in the middle of a longer cell uses cursor_pos, not the end.
        longer = text + "\n" + code["result"]
        res = k.request("complete", code=longer, cursor_pos=len(text))
        c = res["reply"]["content"]
        full = [longer[: c["cursor_start"]] + m for m in c["matches"]]
        expect(want in full and c["cursor_end"] == len(text),
               f"mid-cell completion: cursor {c['cursor_start']}-{c['cursor_end']} matches {c['matches'][:20]}", res)

    def inspect():
        text, want = code["inspect"]
        res = k.request("inspect", code=text, cursor_pos=len(text), detail_level=0)
        expect_ok(res)
        c = res["reply"]["content"]
        expect(c.get("found") is True, f"found = {c.get('found')!r}, want True", res)
        plain = harness.strip_ansi(c.get("data", {}).get("text/plain", ""))
        expect(re.search(want, plain), f"text/plain does not match /{want}/:\n{plain[:800]}", res)
        expect(isinstance(c.get("metadata"), dict), "metadata missing", res)
        res = k.request("inspect", code="no_such_name_xyz", cursor_pos=5, detail_level=0)
        expect_ok(res)
        expect(res["reply"]["content"].get("found") is False, "found is not False for an unknown name", res)

    def is_complete():
        res = k.request("is_complete", code=code["incomplete"])
        c = res["reply"]["content"]
        expect(c.get("status") == "incomplete", f"{code['incomplete']!r}: status {c.get('status')!r}, want 'incomplete'", res)
        expect(isinstance(c.get("indent"), str), f"incomplete reply lacks indent string: {c}", res)
        res = k.request("is_complete", code=code["complete_code"])
        c = res["reply"]["content"]
        expect(c.get("status") == "complete", f"{code['complete_code']!r}: status {c.get('status')!r}, want 'complete'", res)

    def history():
        cells = [code["history_marker"], code["result"], "histMarker"]
        for cell in cells:
            expect_ok(k.execute(cell))
        res = k.request("history", hist_access_type="tail", n=2, raw=True, output=False)
        expect_ok(res)
        items = res["reply"]["content"].get("history")
        expect(isinstance(items, list) and len(items) == 2, f"tail n=2 returned {items!r}", res)
        expect(all(isinstance(it, (list, tuple)) and len(it) == 3 for it in items), f"items are not (session, line, input): {items}", res)
        expect([it[2] for it in items] == cells[1:], f"tail inputs {[it[2] for it in items]}, want {cells[1:]}", res)
        session, last = items[-1][0], items[-1][1]
        expect(isinstance(last, int) and items[0][1] == last - 1, f"line numbers {[it[1] for it in items]} are not consecutive", res)

        res = k.request("history", hist_access_type="range", session=0, start=last - 2, stop=last + 1, raw=True, output=False)
        expect_ok(res)
        items = res["reply"]["content"].get("history") or []
        expect([it[2] for it in items] == cells, f"range {last - 2}..{last + 1} inputs {[it[2] for it in items]}, want {cells}", res)
        expect(all(it[0] == 0 for it in items), f"range of session 0 numbers the session {[it[0] for it in items]}, want 0 (IPython's current session)", res)

        res = k.request("history", hist_access_type="bogus", raw=True, output=False)
        items = res["reply"]["content"].get("history")
        expect(items == [], f"history of an unknown access type returned {items!r}, want []", res)

        res = k.request("history", hist_access_type="search", pattern="*histMarker*", raw=True, output=False, n=10)
        expect_ok(res)
        items = res["reply"]["content"].get("history") or []
        expect(items and all("histMarker" in it[2] for it in items) and any(it[2] == cells[0] for it in items),
               f"search *histMarker* returned {items}", res)

    def comm_info():
        res = k.request("comm_info")
        expect_ok(res)
        expect(isinstance(res["reply"]["content"].get("comms"), dict), "comms is not a dict", res)

    def comm_open_unknown():
        comm_id = harness.new_id()
        res = k.send_shell("comm_open", {"comm_id": comm_id, "target_name": "gopherlab.no-such-target", "data": {}},
                           expect_reply=False)
        closes = [m for m in of_type(res, "comm_close") if m["content"].get("comm_id") == comm_id]
        expect(len(closes) == 1, "no comm_close for a comm_open to an unknown target", res)
        res = k.request("comm_info")
        expect(comm_id not in res["reply"]["content"].get("comms", {}), "closed comm still listed by comm_info", res)

    def display_html():
        res = k.execute(code["display_html"])
        expect_ok(res)
        d = of_type(res, "display_data")
        expect(len(d) == 1, f"{len(d)} display_data messages, want 1", res)
        expect(d[0]["content"]["data"].get("text/html") == "<b>hi</b>", "text/html differs", res)
        expect("text/plain" in d[0]["content"]["data"] and isinstance(d[0]["content"].get("metadata"), dict),
               "display_data lacks text/plain or metadata", res)

    def display_update():
        res = k.execute(code["display_update"])
        expect_ok(res)
        shown = of_type(res, "display_data")
        updates = of_type(res, "update_display_data")
        expect(len(shown) == 1 and len(updates) == 1, "want one display_data and one update_display_data", res)
        did = shown[0]["content"].get("transient", {}).get("display_id")
        expect(did, "display_data has no transient display_id", res)
        expect(updates[0]["content"].get("transient", {}).get("display_id") == did, "update uses another display_id", res)
        expect(updates[0]["content"]["data"].get("text/html") == "b", "update does not carry text/html 'b'", res)

    def display_clear():
        res = k.execute(code["display_clear"])
        expect_ok(res)
        cl = of_type(res, "clear_output")
        expect(len(cl) == 1 and "wait" in cl[0]["content"], "want one clear_output with a wait field", res)

    def magic_help():
        cell, wants = code["magic_help"]
        res = k.execute(cell)
        expect_ok(res)
        text = all_streams(res) + "".join(m["content"]["data"].get("text/plain", "") for m in of_type(res, "execute_result") + of_type(res, "display_data"))
        for w in wants:
            expect(w in text, f"{cell} output lacks {w!r}", res)

    def magic_shell():
        res = k.execute(code["magic_shell"])
        expect_ok(res)
        out = stdout(res).replace("\r\n", "\n")  # IPython runs ! commands in a pty
        expect(out == "hi\n", f"stdout {out!r}, want 'hi\\n'", res)

    def magic_time():
        res = k.execute(code["magic_time"])
        expect_ok(res)
        expect("Wall time" in all_streams(res), "no 'Wall time' in the output", res)

    def user_expressions():
        cell, exprs = code["user_expr"]
        res = k.execute(cell, user_expressions=exprs)
        expect_ok(res)
        ue = res["reply"]["content"].get("user_expressions")
        expect(isinstance(ue, dict) and set(ue) == set(exprs), f"user_expressions = {ue!r}, want keys {set(exprs)}", res)
        ok = ue["ok"]
        expect(ok.get("status") == "ok" and ok.get("data", {}).get("text/plain") == "42"
               and isinstance(ok.get("metadata"), dict), f"user_expressions['ok'] = {ok!r}, want 42", res)
        bad = ue["bad"]
        expect(bad.get("status") == "error" and bad.get("ename") and isinstance(bad.get("traceback"), list),
               f"user_expressions['bad'] = {bad!r}, want an error entry", res)
        # An expression is not a cell: the next execution count follows on.
        before = res["reply"]["content"]["execution_count"]
        nxt = k.execute(code["result"])
        expect(nxt["reply"]["content"]["execution_count"] == before + 1, "user expressions took an execution count", nxt)

    def busy_idle_everywhere():
        # One request of each shell type, whatever the other checks managed
        # to send; then every shell request sent so far must have been wrapped.
        k.request("kernel_info")
        k.execute(code["result"])
        k.request("complete", code="x", cursor_pos=1)
        k.request("inspect", code="x", cursor_pos=1, detail_level=0)
        k.request("is_complete", code="x")
        k.request("history", hist_access_type="tail", n=1, raw=True, output=False)
        k.request("comm_info")
        k.send_shell("comm_open", {"comm_id": harness.new_id(), "target_name": "gopherlab.no-such-target", "data": {}},
                     expect_reply=False)
        # Give trailing idle messages a moment to arrive.
        time.sleep(0.2)
        while k._recv("iopub", 0.05):
            pass
        bad = []
        kinds = set()
        for kind, msg_id in k.requests:
            ok, states = k.status_wrapped(msg_id)
            kinds.add(kind)
            if not ok:
                bad.append(f"{kind} {harness.short(msg_id)}: {states}")
        expect(not bad, "requests not wrapped in busy ... idle:\n  " + "\n  ".join(bad))
        need = {"kernel_info_request", "execute_request", "complete_request", "inspect_request",
                "is_complete_request", "history_request", "comm_info_request", "comm_open"}
        expect(need <= kinds, f"request types not exercised: {need - kinds}")

    run("kernel_info", kernel_info)
    run("execute_result", execute_result)
    run("mixed_cell", mixed_cell)
    run("state", state)
    run("reimport", reimport)
    run("execute_input_and_count", execute_input_and_count)
    run("error", error)
    run("stop_on_error", stop_on_error)
    run("stream_timing", stream_timing)
    run("stdin", stdin)
    run("stdin_not_allowed", stdin_not_allowed)
    run("complete", complete)
    run("inspect", inspect)
    run("is_complete", is_complete)
    run("history", history)
    run("comm_info", comm_info)
    run("comm_open_unknown", comm_open_unknown)
    run("display_html", display_html)
    run("display_update", display_update)
    run("display_clear", display_clear)
    run("magic_help", magic_help)
    run("magic_shell", magic_shell)
    run("magic_time", magic_time)
    run("user_expressions", user_expressions)
    run("busy_idle", busy_idle_everywhere)


if __name__ == "__main__":
    harness.main(checks)
