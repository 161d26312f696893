"""`make book`: run every script of examples/book/, the activation/optimizer examples and every
notebook of examples/notebooks/, then write out/book/index.html showing each figure with the
printed output beside it.

    python examples/book/build.py [--quick] [--only NAME ...] [--root DIR]

Scripts run as a reader runs them (`python examples/book/ch04/gradient_1d.py`, current folder
DIR, figures into DIR/out/book/). Notebooks run top to bottom in a fresh kernel (nbclient); the
executed copies go to out/book/notebooks/. `--quick` shortens the MNIST training (the test
suite's setting). Exit status 1 if anything failed; the page still shows what ran.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd.files import write_atomically

EXAMPLES = Path(__file__).resolve().parents[1]
BOOK = EXAMPLES / "book"
NOTEBOOKS = EXAMPLES / "notebooks"
#: Environment variable the notebooks read for their MNIST training length.
ITERS_ENV = "SCRATCHGRAD_ITERS"
QUICK_ITERS = "300"
NOTEBOOK_TIMEOUT = 600  # seconds per cell: a guard against a hung kernel, not a speed test
OUT = "out/book"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Job:
    """One script run: the file (under examples/), its arguments, and shorter ones for --quick."""

    script: str
    args: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    note: str = ""

    @property
    def name(self) -> str:
        return " ".join([self.script, *self.args])


JOBS = [
    Job("book/ch04/gradient_1d.py", note="4.3.2, Fig. 4-7"),
    Job("book/ch04/gradient_2d.py", note="4.4, Fig. 4-9"),
    Job("book/ch04/gradient_method.py", note="4.4.1, Fig. 4-10"),
    Job("book/ch04/gradient_simplenet.py", note="4.4.2"),
    Job("book/ch04/two_layer_net.py", note="4.5.1"),
    Job("book/ch04/train_neuralnet.py", quick=("--iters", "1300"), note="4.5.3, Fig. 4-12"),
    Job("book/ch05/layer_naive.py", note="5.4"),
    Job("book/ch05/buy_apple.py", note="5.4.1, Fig. 5-16"),
    Job("book/ch05/buy_apple_orange.py", note="5.4.2, Fig. 5-17"),
    Job("book/ch05/gradient_check.py", note="5.7.3"),
    Job("book/ch05/train_neuralnet.py", quick=("--iters", "1300"), note="5.7.4"),
    Job("book/ch06/optimizer_compare_naive.py", note="6.1.7, Fig. 6-8"),
    Job("book/ch06/optimizer_compare_mnist.py", quick=("--iters", "100"), note="6.1.8, Fig. 6-9"),
    Job("book/ch06/weight_init_activation_histogram.py", note="6.2.2, Fig. 6-10"),
    Job("book/ch06/weight_init_activation_histogram.py", ("--init", "0.01"), note="Fig. 6-11"),
    Job("book/ch06/weight_init_activation_histogram.py", ("--init", "xavier"), note="Fig. 6-13"),
    Job(
        "book/ch06/weight_init_activation_histogram.py",
        ("--init", "xavier", "--activation", "tanh"),
        note="6.2.2, tanh",
    ),
    Job(
        "book/ch06/weight_init_activation_histogram.py",
        ("--init", "he", "--activation", "relu"),
        note="6.2.3, Fig. 6-14",
    ),
    Job("activations.py", ("--out", OUT), note="activations and their derivatives"),
    Job("vanishing_gradient.py", ("--out", OUT), note="sigmoid against ReLU"),
    Job("xor.py", ("--out", OUT), note="XOR needs a hidden layer"),
]


@dataclass
class Result:
    """What one job printed and drew."""

    title: str
    note: str
    ok: bool
    seconds: float
    stdout: str
    stderr: str
    figures: list[Path] = field(default_factory=list)


def _environment(quick: bool, notebook: bool = False) -> dict[str, str]:
    """Scripts draw without a display (Agg); notebooks say `%matplotlib inline` themselves.
    Both import this checkout, as the builder does: they run in another folder, where a
    relative `PYTHONPATH=.` names nothing and a venv's editable install of another checkout
    would be imported instead."""
    path = [str(EXAMPLES.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(path))
    if not notebook:
        env["MPLBACKEND"] = "Agg"
    if quick:
        env[ITERS_ENV] = QUICK_ITERS
    return env


def _pictures(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.glob("*") if p.suffix in (".png", ".svg")}


def run_script(job: Job, root: Path, quick: bool) -> Result:
    """Run one script in `root` (its figures land in root/out/book); collect what it made."""
    out = root / OUT
    out.mkdir(parents=True, exist_ok=True)
    before = _pictures(out)
    start = time.perf_counter()
    command = [sys.executable, str(EXAMPLES / job.script), *job.args, *(job.quick if quick else ())]
    done = subprocess.run(
        command, cwd=root, env=_environment(quick), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    after = _pictures(out)
    figures = sorted(p for p, stamp in after.items() if before.get(p) != stamp)
    title = f"examples/{job.name}"
    return Result(title, job.note, done.returncode == 0, seconds, done.stdout, done.stderr, figures)


#: The lines a kernel may leave after its last cell has finished, when every cell's result
#: is in (jupyter_client looks at neither these nor the exit status). libzmq aborting
#: (SIGABRT) in signaler_t::wait when poll() reports POLLHUP/POLLNVAL on a socket ipykernel
#: closes while the process exits (zeromq/libzmq#1554, #3715, #1307, zeromq4-1#86); only
#: from a kernel that died of it:
ZMQ_TEARDOWN_ABORT = re.compile(
    rb"Assertion failed: pfd\.revents & POLLIN \(src/signaler\.cpp:\d+\)"
)
#: and ipykernel's words when a stream's flush, scheduled on its IOPub thread while that
#: thread is being stopped, never runs: it waits 10 s and says so (ipykernel/iostream.py);
#: seen on a busy machine since the kernel is given time to exit (shutdown_wait_time).
IOPUB_FLUSH_TIMEOUT = re.compile(rb"IOStream\.flush timed out")


def run_notebook(
    path: Path,
    *,
    cwd: Path,
    timeout: int = NOTEBOOK_TIMEOUT,
    quick: bool = False,
    stderr: Any = None,
) -> Any:
    """Execute a notebook top to bottom in a fresh kernel of this Python; returns the executed
    notebook (nbformat). Raises nbclient's CellExecutionError naming the failing cell. The
    kernel process's own stderr (C libraries, warnings at start-up) goes to `stderr`, a file;
    if all the kernel wrote there after its last cell is teardown noise (IOPUB_FLUSH_TIMEOUT,
    or ZMQ_TEARDOWN_ABORT from a kernel that died of SIGABRT), it is cut; everything else
    stays."""
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    notebook = nbformat.read(path, as_version=4)
    written_by_cells = 0  # bytes in `stderr` when the latest cell finished
    kernel = None  # the kernel's process (a Popen), once a cell has run

    def cell_finished(**_: Any) -> None:
        nonlocal written_by_cells, kernel
        written_by_cells = os.fstat(stderr.fileno()).st_size
        kernel = client.km.provisioner.process

    with tempfile.TemporaryDirectory(prefix="scratchgrad-kernel-") as sockets:
        # local sockets, not TCP: nothing listens on the network (and ipykernel does not warn);
        # a kernel slow to exit on a busy machine is waited for, not killed after 5 s (its
        # atexit work, and the exit status read below, would be lost)
        config = Config(
            {
                "KernelManager": {
                    "transport": "ipc",
                    "ip": f"{sockets}/kernel",
                    "shutdown_wait_time": 60.0,
                }
            }
        )
        client = NotebookClient(
            notebook,
            config=config,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(cwd)}},
            on_cell_executed=cell_finished if stderr is not None else None,
        )
        client.execute(env=_environment(quick, notebook=True), stderr=stderr)
    if kernel is not None:  # the kernel has exited: nothing writes to `stderr` any more
        cut_teardown_noise(stderr.fileno(), written_by_cells, kernel.returncode)
    return notebook


def cut_teardown_noise(fd: int, written_by_cells: int, returncode: int | None) -> None:
    """Cut what a kernel wrote to the file `fd` after its last cell (from `written_by_cells`
    bytes on) when it is all teardown noise: IOPUB_FLUSH_TIMEOUT lines, and ZMQ_TEARDOWN_ABORT
    from a kernel that died of SIGABRT. A terminal or a pipe cannot be unwritten: those get
    every line."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return
    teardown = [IOPUB_FLUSH_TIMEOUT]
    if returncode == -signal.SIGABRT:
        teardown.append(ZMQ_TEARDOWN_ABORT)
    at_shutdown = os.fstat(fd).st_size - written_by_cells
    lines = os.pread(fd, at_shutdown, written_by_cells).strip().splitlines()
    if lines and all(any(p.fullmatch(line.strip()) for p in teardown) for line in lines):
        os.ftruncate(fd, written_by_cells)


def notebook_stderr(notebook: Any) -> str:
    """What the cells wrote to stderr (warnings): a reader sees it in red; it should be empty."""
    return "".join(
        output["text"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )


def _notebook_outputs(notebook: Any, folder: Path, stem: str) -> tuple[str, list[Path]]:
    """The text a reader sees printed, and each picture written to a file."""
    texts: list[str] = []
    figures: list[Path] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                if output.get("name") == "stdout":
                    texts.append(output["text"])
                continue
            data = output.get("data", {})
            picture = None
            if "image/png" in data:
                picture = (".png", base64.b64decode(data["image/png"]))
            elif "image/svg+xml" in data:
                picture = (".svg", data["image/svg+xml"].encode("utf-8"))
            elif "text/plain" in data and output.get("output_type") == "execute_result":
                texts.append(data["text/plain"] + "\n")
            if picture is not None:
                path = folder / f"{stem}-{len(figures) + 1}{picture[0]}"
                write_atomically(path, lambda f, data=picture[1]: f.write(data))
                figures.append(path)
    return "".join(texts), figures


def build_notebook(path: Path, root: Path, quick: bool) -> Result:
    import nbformat

    folder = root / OUT / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    title = f"examples/notebooks/{path.name}"
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as kernel_stderr:
        try:
            notebook = run_notebook(path, cwd=root, quick=quick, stderr=kernel_stderr)
        except Exception as exc:  # a failing cell: show it on the page, carry on with the rest
            kernel_stderr.seek(0)
            seconds = time.perf_counter() - start
            report = ANSI_COLOUR.sub("", f"{kernel_stderr.read()}{exc}")  # IPython's colours
            return Result(title, "notebook", False, seconds, "", report)
        kernel_stderr.seek(0)
        errors = kernel_stderr.read()
    seconds = time.perf_counter() - start
    executed = nbformat.writes(notebook).encode("utf-8")
    write_atomically(folder / path.name, lambda f: f.write(executed))
    text, figures = _notebook_outputs(notebook, folder, path.stem)
    return Result(
        title, "notebook", True, seconds, text, errors + notebook_stderr(notebook), figures
    )


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>scratchgrad: the book's scripts, run</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
section {{ border-top: 1px solid #ccc; padding: 0.8em 0; display: flex; gap: 1.5em; }}
.text {{ flex: 0 0 38%; min-width: 0; }}
.figures {{ flex: 1; min-width: 0; }}
.figures img {{ max-width: 100%; display: block; margin-bottom: 0.6em; }}
pre {{ background: #f6f6f6; padding: 0.6em; white-space: pre-wrap; font-size: 12px;
  overflow-wrap: anywhere; }}
.failed h2 {{ color: #b00; }}
.meta {{ color: #666; font-size: 0.9em; }}
h2 {{ font-size: 1.05em; margin: 0 0 0.3em; font-family: monospace; overflow-wrap: anywhere; }}
h2 .arg {{ white-space: nowrap; }}
@media (max-width: 800px) {{ section {{ flex-direction: column; }} }}
</style></head><body>
<h1>Deep Learning from Scratch, ch. 4–6, on scratchgrad</h1>
<p>{summary}</p>
{sections}
</body></html>
"""


def _section(result: Result, out: Path) -> str:
    status = "ok" if result.ok else "FAILED"
    printed = html.escape(result.stdout.rstrip()) or "(prints nothing)"
    errors = ""
    if result.stderr.strip():
        errors = f"<p>stderr:</p><pre>{html.escape(result.stderr.rstrip())}</pre>"
    images = "".join(  # scaled to the column; a click opens it at full size
        f'<a href="{src}"><img src="{src}" alt="{html.escape(p.name)}"></a>'
        for p in result.figures
        for src in [html.escape(p.relative_to(out).as_posix())]
    )
    # arguments never split at their hyphens ("-" / "-init 0.01")
    script, *args = result.title.split(" ")
    title = " ".join(
        [html.escape(script), *(f'<span class="arg">{html.escape(a)}</span>' for a in args)]
    )
    return (
        f'<section class="{"ok" if result.ok else "failed"}"><div class="text">'
        f"<h2>{title}</h2>"
        f'<p class="meta">{html.escape(result.note)} · {status} in {result.seconds:.1f} s</p>'
        f"<pre>{printed}</pre>{errors}</div>"
        f'<div class="figures">{images or "<p>(no figure)</p>"}</div></section>'
    )


def write_index(results: Sequence[Result], out: Path, quick: bool) -> Path:
    failed = [r.title for r in results if not r.ok]
    summary = f"{len(results)} runs, {len(failed)} failed" + (
        " (--quick: shortened MNIST training)" if quick else ""
    )
    page = PAGE.format(
        summary=html.escape(summary), sections="\n".join(_section(r, out) for r in results)
    )
    path = out / "index.html"
    write_atomically(path, lambda f: f.write(page.encode("utf-8")))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short MNIST training")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only jobs whose name contains NAME"
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="folder to run in")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    def wanted(name: str) -> bool:
        return args.only is None or any(part in name for part in args.only)

    results: list[Result] = []
    for job in JOBS:
        if wanted(job.name):
            results.append(run_script(job, root, args.quick))
            _report(results[-1])
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if wanted(path.name):
            results.append(build_notebook(path, root, args.quick))
            _report(results[-1])
    if not results:
        parser.error(f"--only {' '.join(args.only)}: no script or notebook has that in its name")
    index = write_index(results, root / OUT, args.quick)
    failed = [r for r in results if not r.ok]
    print(f"wrote {index}: {len(results)} runs, {len(failed)} failed")
    return 1 if failed else 0


def _report(result: Result) -> None:
    print(f"{'ok' if result.ok else 'FAILED':>6}  {result.seconds:6.1f} s  {result.title}")
    if not result.ok:
        print(result.stderr.rstrip(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
