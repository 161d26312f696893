"""`scratchgrad`: draw a formula's graph from the shell, or run the book's demo.

    scratchgrad draw "0.5 * (x * m * t - 219) ** 2" x=100 m=2 t=1.1 -o loss.svg
    scratchgrad demo

Exit status: 0 on success, 2 for a refused or malformed command line (as argparse does), 1 when
a picture cannot be written.

Output survives a terminal that cannot show every character (`PYTHONIOENCODING=ascii`, a
Latin-1 locale): `∂L/∂x` is printed as `dL/dx` there, anything else unprintable as `\\u....`.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import importlib.util
import inspect
import io
import os
import shlex
import sys
import traceback
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autograd.check import LayerCheckError, check_layer
from autograd.explain import explanation
from viz.book import apple_orange, print_gradients, save_all
from viz.drawing import SAVE_FORMATS, draw
from viz.expr import FUNCTIONS, ExprError, build
from viz.format import ASCII_STAND_INS, number
from viz.render import RendererMissing
from viz.steps import steps

PROG = "scratchgrad"
LOSS = "L"  # a formula is unnamed: its picture writes gradients ∂L/∂x (autograd.text.loss_name)


def _checkout() -> Path | None:
    """The source folder when we run from a checkout (its Makefile and examples beside the
    package), else None: after `pip install` only the packages exist."""
    root = Path(__file__).resolve().parent.parent
    has_sources = (root / "Makefile").is_file() and (root / "examples" / "apple.py").is_file()
    return root if has_sources else None


def _more(python: str, scratchgrad: str, checkout: Path | None) -> str:
    """Where everything else is, spelled with the commands that work from here (the venv's),
    naming only what exists: example scripts and `make` only in a checkout."""
    python, scratchgrad = shlex.quote(python), shlex.quote(scratchgrad)
    rows = [
        (f"{scratchgrad} draw --help", "draw your own formula, for example"),
        (f'  {scratchgrad} draw "0.5 * (x * m * t - 219) ** 2" x=100 m=2 t=1.1', ""),
        (f'  {scratchgrad} draw "x * y + 3" x=2 y=5 --explain -o steps.html', ""),
        (f"{scratchgrad} check-layer --help", "check the backward of your own layer"),
    ]
    if checkout is None:
        rows += [
            (f"{python} -m pydoc autograd", "the engine: Tensor, Value, backward, gradcheck"),
            (f"{python} -m pydoc nn", "the book's layers, TwoLayerNet, optimizers, load_mnist"),
            (f"{python} -m pydoc viz.draw", "drawing graphs from your own code"),
        ]
    else:
        examples = shlex.quote(_command(str(checkout / "examples")))
        here = Path.cwd().resolve() == checkout
        make = "make" if here else f"make -C {shlex.quote(_command(str(checkout)))}"
        figures = "Fig. 5-16 (also apple_orange, chain_rule, sigmoid, loss)"
        rows.insert(0, (f"{python} {examples}/apple.py", figures))
        rows += [
            (f"{python} {examples}/affine.py", "Fig. 5-25/5-27: the Affine layer's tensor rules"),
            (f"{python} {examples}/softmax_loss.py", "Fig. 5-29/5-30: Softmax-with-Loss, y − t"),
            (f"{python} {examples}/two_layer_graph.py", "TwoLayerNet's graph, plain and per layer"),
            (f"{python} {examples}/gradient_check.py", "the book's gradient check (5.7.3)"),
            (f"{python} {examples}/train_mnist.py", "TwoLayerNet trained on MNIST (5.7.4)"),
            (f"{python} {examples}/optimizer_compare.py", "SGD, Momentum, AdaGrad, Adam (ch. 6)"),
            (f"{make} book", "every ch. 4-6 script and notebook, run: out/book/index.html"),
            (f"{make} test / {make} bench", "the test suite / the benchmarks in bench/"),
            (
                shlex.quote(_command(str(checkout / "README.md"))),
                "the API tour, by the book's sections",
            ),
        ]
    width = max(len(command) for command, note in rows if note)
    lines = [f"  {command:<{width}}  {note}".rstrip() for command, note in rows]
    return "\n".join(["More to try:", *lines])


def _command(path: str) -> str:
    """`path` relative to the current folder when it lies below it (.venv/bin/python)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative


_DRAW_OPTIONS_WITH_VALUE = {"-o", "--output", "--style"}
_DRAW_FLAGS = ("--explain", "--forward")  # options without a value


def _formula_may_start_with_minus(argv: Sequence[str]) -> list[str]:
    """`draw "-x * 2" x=1`: argparse would take "-x * 2" for an option; put it after `--`."""
    argv = list(argv)
    if not argv or argv[0] != "draw" or "--" in argv:
        return argv
    options: list[str] = []
    positionals: list[str] = []
    rest = iter(argv[1:])
    for token in rest:
        if token in _DRAW_OPTIONS_WITH_VALUE:
            options += [token, next(rest, "")]
        elif token in ("-h", "--help", *_DRAW_FLAGS) or token.startswith(("--output=", "--style=")):
            options.append(token)
        else:
            positionals.append(token)
    if not positionals or not positionals[0].startswith("-"):
        return argv
    return ["draw", *options, "--", *positionals]


class UsageError(Exception):
    """A command line we refuse; reported in one line with exit status 2."""


def _fallback(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: ASCII stand-ins for our symbols, `\\u....` for anything else."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(
        _ASCII.get(c, c.encode("ascii", "backslashreplace").decode()) for c in text
    ), error.end


_ASCII = ASCII_STAND_INS  # the same stand-ins as viz.format.printable
codecs.register_error("scratchgrad-fallback", _fallback)


@contextlib.contextmanager
def _streams_that_never_fail() -> Iterator[None]:
    """While the command runs, text the terminal cannot encode falls back instead of raising."""
    restore = []
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            restore.append((stream, stream.errors))
            stream.reconfigure(errors="scratchgrad-fallback")
    try:
        yield
    finally:
        for stream, errors in restore:
            with contextlib.suppress(ValueError):  # closed meanwhile
                stream.reconfigure(errors=errors)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    with _streams_that_never_fail():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(
            _formula_may_start_with_minus(sys.argv[1:] if argv is None else argv)
        )
    except SystemExit as exc:  # --help, or a usage error argparse has already reported
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.run(args)
    except (UsageError, ExprError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (RecursionError, MemoryError):
        print(f"{PROG}: error: the expression is too large to compute and draw", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `scratchgrad demo | head -3`: the reader has all it wanted
        with contextlib.suppress(OSError, ValueError):  # no complaint from the final flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (RendererMissing, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Computational graphs and backprop, drawn as in the book."
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    d = sub.add_parser(
        "draw",
        help="draw the graph of a formula and print its gradients",
        description=(
            "Build the graph of EXPR with one named value per NAME=VALUE, run backward, print "
            "the value and each variable's gradient, and write the picture. EXPR may use "
            "numbers, the given names, + - * / **, unary minus, parentheses and "
            f"{', '.join(FUNCTIONS)}; nothing else is accepted and nothing is ever evaluated "
            "as Python."
        ),
        epilog='example: scratchgrad draw "0.5 * (x * m * t - 219) ** 2" x=100 m=2 t=1.1',
    )
    d.add_argument("expr", metavar="EXPR", help="the formula, quoted")
    d.add_argument("values", metavar="NAME=VALUE", nargs="*", help="a variable and its value")
    d.add_argument(
        "-o", "--output", default="graph.svg", metavar="FILE",
        help="picture to write: .svg, .png, .pdf or .dot, or .html for a page that steps "
        "through the backward pass (default: graph.svg)",
    )  # fmt: skip
    d.add_argument(
        "--style", choices=("book", "nodes"), default="book",
        help="book: values on the arrows, gradients under them, ops as circles (Fig. 5-16); "
        "nodes: one box per value with its data and grad (default: book)",
    )  # fmt: skip
    d.add_argument(
        "--explain", action="store_true",
        help="also print the backward pass gate by gate, with the chain rule at each step",
    )  # fmt: skip
    d.add_argument(
        "--forward", action="store_true",
        help="with --explain or -o page.html: step through the forward pass first",
    )  # fmt: skip
    d.set_defaults(run=_draw)

    demo = sub.add_parser(
        "demo",
        help="draw the book's apple/orange graph (Fig. 5-17) and show what else to run",
        description=(
            "Draw the book's Fig. 5-17 (2 apples at 100 and 3 oranges at 150, with 10% tax) "
            "into DIR as .svg and .png, print the price and its five gradients, and list the "
            "commands and examples to try next."
        ),
    )
    demo.add_argument(
        "-o", "--output-dir", default="out", metavar="DIR", help="where to write (default: out)"
    )
    demo.set_defaults(run=_demo)
    _add_trace_command(sub)
    _add_check_layer(sub)
    return parser


def _draw(args: argparse.Namespace) -> int:
    values = _assignments(args.values)
    output = Path(args.output)
    page = output.suffix.lower() == ".html"
    if output.suffix.lower().lstrip(".") not in SAVE_FORMATS and not page:
        raise UsageError(f"-o {output}: the name must end in .svg, .png, .pdf, .dot or .html")
    if output.exists() and not output.is_file():  # a folder, a pipe (would block), a device
        raise UsageError(f"-o {output}: it exists and is not a file; choose another name")
    if args.forward and not (page or args.explain):
        raise UsageError("--forward goes with --explain or -o page.html (a step-through page)")
    if page and args.style != "book":
        raise UsageError("--style nodes: a step-through page (.html) is drawn in the book's style")
    root, variables = build(args.expr, values)
    if page and not root.requires_grad:
        raise UsageError(f"{args.expr.strip()!r} uses no variable: there is no backward to step")
    with np.errstate(all="ignore"):  # an overflow shows as inf, as in the values: no warnings
        explained = None
        if args.explain and root.requires_grad:
            explained = explanation(root, forward=args.forward)
        steps_page = steps(root, forward=args.forward) if page else None  # both before backward
        if root.requires_grad:
            root.backward()
        # named as the picture names it: ∂/∂x alone is the blue local derivative there
        print(f"{LOSS} = {args.expr.strip()} = {number(root.item())}")
        for name, t in variables.items():
            shown = "not used" if t.grad is None else number(t.grad.item())
            print(f"  ∂{LOSS}/∂{name} = {shown}")
        if explained is not None:
            print(f"\n{explained}\n")
        path = steps_page.save(output) if steps_page else draw(root, style=args.style).save(output)
    print(f"wrote {path}")
    return 0


def _assignments(items: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python reads names in EXPR
        if not sep or not name.isidentifier():
            raise UsageError(f"expected NAME=VALUE, got {item!r}")
        if name in FUNCTIONS:
            raise UsageError(f"{name!r} is a function name; call the variable something else")
        if name in values:
            raise UsageError(f"{name} is given twice")
        try:
            values[name] = float(text)
        except ValueError:
            raise UsageError(f"{name}={text!r}: the value must be a number") from None
    return values


def _demo(args: argparse.Namespace) -> int:
    folder = Path(args.output_dir)
    if folder.exists() and not folder.is_dir():  # was "[Errno 17] File exists", after printing
        raise UsageError(f"-o {folder}: it exists and is not a folder; give a folder name")
    price, inputs = apple_orange()
    price.backward()
    print("Fig. 5-17: 2 apples at 100 and 3 oranges at 150, with 10% tax")
    print_gradients(price, inputs)
    save_all(draw(price, title="Fig. 5-17: apples and oranges"), args.output_dir, "apple_orange")
    print()
    script = Path(sys.executable).with_name(PROG)
    scratchgrad = _command(str(script)) if script.exists() else PROG
    print(_more(_command(sys.executable), scratchgrad, _checkout()))
    return 0


def _add_trace_command(sub: argparse._SubParsersAction) -> None:
    """`scratchgrad trace EXPR NAME=VALUE`: print the program backprop writes for a formula."""
    t = sub.add_parser(
        "trace",
        help="print the Python code backprop writes for a formula, and run it",
        description=(
            "Trace EXPR (the formulas `draw` accepts) with one number per NAME=VALUE into a "
            "straight-line Python function, forward then backward, print it, and run it. "
            "The formula is parsed and checked, never evaluated as Python; the printed code "
            "is written from the engine's op table."
        ),
        epilog='example: scratchgrad trace "0.5 * (x * m * t - 219) ** 2" x=100 m=2 t=1.1',
    )
    t.add_argument("expr", metavar="EXPR", help="the formula, quoted")
    t.add_argument("values", metavar="NAME=VALUE", nargs="+", help="a variable and its value")

    def run(args: argparse.Namespace) -> int:
        import numpy as np

        import autograd
        from autograd import Value
        from viz.expr import _evaluate, parse

        values = _assignments(args.values)
        tree = parse(args.expr, values)  # refuses anything but the whitelisted formula parts
        names = list(values)

        def formula(*variables: Value) -> Value:
            return _evaluate(tree.body, dict(zip(names, variables, strict=True)))

        try:
            with np.errstate(all="ignore"):  # 1/0 gives inf, as `draw` shows it
                program = autograd.trace(
                    formula, *(Value(v, name) for name, v in values.items()), names=names
                )
                out, grads = program(*values.values())
        except RecursionError:
            raise ExprError("the expression is nested too deeply") from None
        except autograd.TraceError as exc:
            raise UsageError(str(exc)) from None
        print(program.source)
        print(f"{LOSS} = {args.expr.strip()} = {number(out)}")
        for name, g in zip(values, grads, strict=True):
            print(f"  ∂{LOSS}/∂{name} = {number(g)}")
        return 0

    t.set_defaults(run=run)


# --- check-layer: the user's own layer file -------------------------------------------------
_MADE_OUTPUTS = 4  # outputs of a layer whose W and b check-layer makes itself


def _add_check_layer(sub: Any) -> None:
    c = sub.add_parser(
        "check-layer",
        help="check the backward of your own layer (forward/backward, as in the book)",
        description=(
            "Load FILE (this runs it: it is your code), take the layer NAME from it, run "
            "forward and backward on random inputs of the given shape and compare every "
            "gradient with central differences. NAME may be a layer object, a function that "
            "returns one, or a class; a class's arguments named W... and b... are made at "
            f"random ({_MADE_OUTPUTS} outputs). Exit status: 0 when every row is right, 1 when "
            "one is wrong, 2 when the layer cannot be checked."
        ),
        epilog="example: scratchgrad check-layer layers.py:Affine --shape 2,3",
    )
    c.add_argument("target", metavar="FILE:NAME", help="e.g. layers.py:Affine")
    c.add_argument(
        "--shape", action="append", metavar="N,N", required=True,
        help="shape of forward's inputs; repeat it for one shape per input",
    )  # fmt: skip
    c.add_argument("--seed", type=_seed, default=0, help="seed of the random values (default: 0)")
    c.set_defaults(run=_check_layer)


def _seed(text: str) -> int:
    """A seed numpy's generators take (0 or more), refused as a usage error otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


class _CannotCheck(Exception):
    """The file or layer cannot be used; reported in one line with exit status 2."""


def _check_layer(args: argparse.Namespace) -> int:
    try:
        shapes = [_shape(text) for text in args.shape]
        path, name = _layer_target(args.target)
        with _user_folder(path):
            layer = _make_layer(_load_user_file(path), path, name, shapes[0], args.seed)
            report = check_layer(
                layer, shape=shapes[0] if len(shapes) == 1 else shapes, seed=args.seed
            )
    except (_CannotCheck, LayerCheckError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # the layer's own code called sys.exit()
        print(f"{PROG}: error: the layer called sys.exit({exc.code!r})", file=sys.stderr)
        return 2
    except MemoryError as exc:  # (not the formula message `draw` gives)
        print(
            f"{PROG}: error: --shape {' --shape '.join(args.shape)} is too large to check "
            f"({exc}); small shapes check the same formulas, e.g. --shape 2,3",
            file=sys.stderr,
        )
        return 2
    print(report)
    return 0 if report.ok else 1


def _shape(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.strip().strip("()").split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise _CannotCheck(
            f"--shape {text!r}: expected sizes separated by commas, e.g. 2,3"
        ) from None
    if any(d <= 0 for d in shape):
        raise _CannotCheck(f"--shape {text!r}: every size must be at least 1")
    return shape


def _layer_target(target: str) -> tuple[Path, str]:
    file, sep, name = target.rpartition(":")
    if not sep or not file or not name.isidentifier():
        raise _CannotCheck(f"expected FILE:NAME such as layers.py:Affine, got {target!r}")
    path = Path(file)
    if path.is_dir():
        raise _CannotCheck(f"{file}: this is a folder; give the .py file that defines {name}")
    if not path.is_file():
        raise _CannotCheck(f"{file}: no such file")
    return path, name


@contextmanager
def _user_folder(path: Path) -> Iterator[None]:
    """The file's folder first on sys.path while it runs, so its own imports work."""
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        if folder in sys.path:
            sys.path.remove(folder)


def _load_user_file(path: Path) -> ModuleType:
    module_name = f"_scratchgrad_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise _CannotCheck(f"{path}: not a Python file (the name should end in .py)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise _CannotCheck(f"{path}, line {exc.lineno}: {exc.msg}") from None
    except (Exception, SystemExit) as exc:
        raise _CannotCheck(
            f"running {path} failed{_line_in(path, exc)}: {_describe(exc)}"
        ) from None
    finally:
        sys.modules.pop(module_name, None)
    return module


def _line_in(path: Path, exc: BaseException) -> str:
    """`, line 7` for the last line of `path` on the way to `exc` (the user's own line)."""
    here = str(path.resolve())
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == here]
    return f", line {lines[-1]}" if lines else ""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _make_layer(
    module: ModuleType, path: Path, name: str, shape: tuple[int, ...], seed: int
) -> Any:
    """NAME itself if it is a layer object; otherwise call it, making W and b from `shape`."""
    found = getattr(module, name, None)
    if found is None:
        layers = sorted(
            k for k, v in vars(module).items() if inspect.isclass(v) and hasattr(v, "forward")
        )
        defined = f"; it defines {', '.join(layers)}" if layers else ""
        raise _CannotCheck(f"{path} has no {name}{defined}")
    if not inspect.isclass(found) and hasattr(found, "forward"):
        return found
    if not callable(found):
        raise _CannotCheck(f"{path}: {name} is a {type(found).__name__}, not a layer")
    rng = np.random.default_rng(seed)
    n_in = int(np.prod(shape[1:])) if len(shape) >= 2 else (shape[0] if shape else 1)
    made: dict[str, np.ndarray] = {}
    try:
        parameters = inspect.signature(found).parameters.values()
    except (TypeError, ValueError):
        parameters = []
    for p in parameters:
        if p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name.startswith("W"):
            made[p.name] = rng.standard_normal((n_in, _MADE_OUTPUTS))
        elif p.name.startswith("b"):
            made[p.name] = rng.standard_normal(_MADE_OUTPUTS)
        else:
            raise _CannotCheck(
                f"{name}({p.name}=...): check-layer makes only W and b; add a function to "
                f"{path} that returns the layer (def make(): return {name}(...)) and check "
                f"{path}:make"
            )
    try:
        layer = found(**made)
    except (Exception, SystemExit) as exc:
        raise _CannotCheck(f"{name}(...) failed{_line_in(path, exc)}: {_describe(exc)}") from None
    if made:
        sizes = ", ".join(f"{k}: {v.shape}" for k, v in made.items())
        print(f"made {name}({sizes}) with random values (seed {seed})")
    return layer


if __name__ == "__main__":
    sys.exit(main())
