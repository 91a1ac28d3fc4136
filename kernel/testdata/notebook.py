"""Executes a notebook headless with nbclient, as `make demo` and nbconvert
do, and checks each code cell's outputs against its `gopherlab_test`
metadata ({"stdout": ..., "result": ..., "html": ...}).

Run: /usr/bin/python3 notebook.py   (GL_KERNEL=python3 runs notebook_python.ipynb on ipykernel)
"""

import os
import sys
import traceback

import nbformat
from nbclient import NotebookClient

from harness import KERNEL, TIMEOUT, emit

HERE = os.path.dirname(os.path.abspath(__file__))


def outputs_text(cell):
    return "\n".join(repr(o) for o in cell.get("outputs", []))[:2000]


def check_cell(cell):
    want = cell.metadata.get("gopherlab_test", {})
    outs = cell.get("outputs", [])
    errors = [o for o in outs if o.output_type == "error"]
    expect_error = "raises-exception" in cell.metadata.get("tags", [])
    if errors and not expect_error:
        return f"cell raised {errors[0].get('ename')}: {errors[0].get('evalue')}"
    if expect_error and not errors:
        return "cell tagged raises-exception did not fail"
    if not isinstance(cell.get("execution_count"), int):
        return f"execution_count {cell.get('execution_count')!r}, want an integer"
    if "stdout" in want:
        got = "".join(o.text for o in outs if o.output_type == "stream" and o.name == "stdout")
        if got != want["stdout"]:
            return f"stdout {got!r}, want {want['stdout']!r}"
    if "result" in want:
        got = [o.data.get("text/plain") for o in outs if o.output_type == "execute_result"]
        if got != [want["result"]]:
            return f"results {got}, want [{want['result']!r}]"
    if "png" in want:
        if not any("image/png" in o.get("data", {}) for o in outs if o.output_type in ("display_data", "execute_result")):
            return "no image/png output"
    if "html" in want:
        got = [o.data.get("text/html") for o in outs if o.output_type == "display_data"]
        if want["html"] not in got:
            return f"display_data text/html {got}, want {want['html']!r}"
    return None


def main():
    name = "notebook_python.ipynb" if KERNEL.startswith("python") else "notebook.ipynb"
    nb = nbformat.read(os.path.join(HERE, name), as_version=4)
    try:
        NotebookClient(nb, kernel_name=KERNEL, timeout=int(TIMEOUT), startup_timeout=int(TIMEOUT)).execute()
    except Exception:
        emit("notebook", "fail", f"nbclient failed on {name}:\n{traceback.format_exc()}")
        return 1
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        p = check_cell(cell)
        if p:
            problems.append(f"cell {i} ({cell.source.splitlines()[0]!r}...): {p}\n  outputs: {outputs_text(cell)}")
    lang = nb.metadata.get("language_info", {}).get("name")
    want_lang = "python" if KERNEL.startswith("python") else "go"
    if lang != want_lang:
        problems.append(f"notebook language_info.name {lang!r} after execution, want {want_lang!r}")
    if problems:
        emit("notebook", "fail", "\n".join(problems))
        return 1
    emit("notebook", "pass", f"{name}: {sum(c.cell_type == 'code' for c in nb.cells)} code cells")
    return 0


def examples():
    """Executes every notebook under notebooks/ (what `make demo` runs)."""
    root = os.path.join(HERE, "..", "..", "notebooks")
    names = sorted(n for n in os.listdir(root) if n.endswith(".ipynb")) if os.path.isdir(root) else []
    problems = []
    for name in names:
        nb = nbformat.read(os.path.join(root, name), as_version=4)
        try:
            NotebookClient(nb, kernel_name=KERNEL, timeout=600, startup_timeout=int(TIMEOUT),
                           resources={"metadata": {"path": root}}).execute()
        except Exception:
            problems.append(f"nbclient failed on {name}:\n{traceback.format_exc()}")
            continue
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                p = check_cell(cell)
                if p:
                    problems.append(f"{name} cell {i} ({cell.source.splitlines()[0]!r}...): {p}\n  outputs: {outputs_text(cell)}")
    if problems:
        emit("examples", "fail", "\n".join(problems))
        return 1
    emit("examples", "pass", f"{len(names)} notebooks: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    rc = main()
    if not KERNEL.startswith("python"):
        rc |= examples()
    sys.exit(rc)
