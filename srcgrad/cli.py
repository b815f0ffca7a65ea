"""The command line: ``srcgrad show FILE.py:FUNC [--wrt x,y] [--mode M] [--order N] [--ir]
[--shapes x=3x4] [--diff] [--backend python|numba] [--color auto|always|never]``,
``srcgrad export FILE.py:FUNC
[--wrt x,y] [--mode M] [--shapes x=3x4] -o OUT.py`` (a standalone module, ``exporting``),
``srcgrad coverage [--check]`` (the coverage table, docs/coverage.md) and
``srcgrad --version`` (the package's version, ``srcgrad.__version__``). Each
subcommand's ``--help`` ends with examples.

Exit codes: 0 success; 1 an error about the user's code or files (printed to
stderr as one located paragraph); 2 bad usage. The file is imported as a
module (its top level runs), so its globals resolve as they would at run time.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import sys
from collections.abc import Sequence

import srcgrad

from . import api, coverage, highlight
from . import exporting as _export
from . import shown as shown_module
from .errors import SrcgradError


class _Failure(Exception):
    """An error to print and exit 1 on."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="srcgrad", description="Source-to-source derivatives "
                                "of Python functions.")
    p.add_argument("--version", action="version", version=f"%(prog)s {srcgrad.__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the generated derivative source of a function",
                          epilog=_SHOW_EXAMPLES, formatter_class=_RAW)
    show.add_argument("target", metavar="FILE.py:FUNC", help="the file and the function in it")
    show.add_argument("--wrt", default=None,
                      help="comma-separated parameter names or indices (default: the first)")
    show.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                      help="reverse (gradient) or forward (tangent) code; default reverse")
    show.add_argument("--order", type=int, choices=(1, 2), default=1,
                      help="2: the Hessian-vector product (forward over reverse)")
    show.add_argument("--ir", action="store_true", help="print the SSA IR instead of Python")
    show.add_argument("--no-opt", action="store_true",
                      help="print the transform's output before the optimizer's passes")
    show.add_argument("--backend", choices=("python", "numba"), default="python",
                      help="numba: the code backend='numba' compiles (typed tapes; "
                      "needs numba)")
    _graph_parser(sub)
    _shape_options(show)
    show.add_argument("--diff", action="store_true",
                      help="print the optimizer's changes: a unified diff of --no-opt's code "
                      "against the optimized code")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="syntax colours: auto (on a terminal), always or never")
    _export_parser(sub)
    cov = sub.add_parser("coverage", help="write docs/coverage.md from the rule registry",
                         epilog=_COVERAGE_EXAMPLES, formatter_class=_RAW)
    cov.add_argument("--output", default=os.path.join("docs", "coverage.md"))
    cov.add_argument("--check", action="store_true",
                     help="exit 1 if the file differs from the registry (stale)")
    return p


def _graph_parser(sub) -> None:
    g = sub.add_parser("graph", help="draw the computation graph of a function at a point, "
                       "with each value and its adjoint",
                       epilog="example: srcgrad graph examples/lecture.py:f "
                       "--at x=2,y=-1,z=0 -o f.svg")
    g.add_argument("target", metavar="FILE.py:FUNC", help="the file and the function in it")
    g.add_argument("--at", default="", metavar="NAME=VALUE,...",
                   help="the arguments: numbers (floats, unless the parameter is annotated "
                   "int) or lists of numbers (float arrays), e.g. x=2,y=-1,w=[1,2]")
    g.add_argument("-o", "--output", default=None,
                   help="write the picture: .svg, .png (needs matplotlib) or .dot; "
                   "without it, print the graph as text")
    g.add_argument("--unroll", type=int, default=10,
                   help="draw loops of at most this many iterations one by one (default 10)")
    g.add_argument("--max-nodes", type=int, default=300,
                   help="refuse graphs with more nodes (default 300)")


def _at(text: str, fn) -> dict[str, object]:
    """``--at x=2,y=-1,w=[1,2]`` as keyword arguments."""
    import ast

    import numpy as np

    ints = {k for k, v in getattr(fn, "__annotations__", {}).items() if v in (int, "int")}
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text + ","):
        depth += (ch in "[(") - (ch in "])")
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    out: dict[str, object] = {}
    for part in filter(None, parts):
        name, eq, value = part.partition("=")
        try:
            v = ast.literal_eval(value.strip()) if eq and name.strip().isidentifier() else None
        except (ValueError, SyntaxError):
            v = None
        if isinstance(v, (list, tuple)) and v and all(
                isinstance(x, (int, float)) or isinstance(x, (list, tuple)) for x in v):
            v = np.asarray(v, dtype=float)
        elif isinstance(v, int) and not isinstance(v, bool):
            v = v if name.strip() in ints else float(v)
        if not isinstance(v, (float, complex, int, np.ndarray)) or isinstance(v, bool):
            raise _Failure(f"--at {part!r}: expected NAME=NUMBER or NAME=[NUMBERS...], "
                           "e.g. --at x=2,y=-1.5,w=[1,2,3]")
        out[name.strip()] = v
    return out


def _graph(args) -> int:
    from .graphs import graph

    path, sep, name = args.target.rpartition(":")
    if not sep or not path or not name:
        print(f"srcgrad: expected FILE.py:FUNC, got {args.target!r}", file=sys.stderr)
        return 2
    try:
        fn = _load_function(path, name)
        g = graph(fn, max_nodes=args.max_nodes, unroll=args.unroll, **_at(args.at, fn))
        if args.output:
            g.save(args.output)
            print(f"wrote {args.output} ({len(g.nodes)} nodes, {len(g.edges)} edges)")
        else:
            print(g)
    except (_Failure, SrcgradError, OSError) as exc:
        print(f"srcgrad: {exc}", file=sys.stderr)
        return 1
    return 0


_RAW = argparse.RawDescriptionHelpFormatter
_SHOW_EXAMPLES = """examples:
  srcgrad show examples/lecture.py:f --wrt x,y,z
  srcgrad show examples/hmm.py:log_partition --wrt log_emit \\
      --shapes log_init=3,log_trans=3x3,log_emit=6x3
  srcgrad show examples/lecture.py:f --mode forward --color never | less
  srcgrad show examples/hmm.py:log_partition --diff
  srcgrad show examples/hmm.py:log_partition --wrt log_emit --backend numba
"""
_EXPORT_EXAMPLES = """examples:
  srcgrad export examples/lecture.py:f --wrt x,y,z -o f_grad.py
  srcgrad export examples/hmm.py:log_partition --wrt log_emit \\
      --shapes log_init=3,log_trans=3x3,log_emit=6x3 -o log_partition_grad.py

The module written imports NumPy (SciPy where the function calls it) and the modules
whose globals the function reads, never srcgrad: the run-time helpers it calls are
copied into it. With --shapes it holds the code specialized on those shapes (it
checks them when called); for dataclass or object arguments, export from Python:
srcgrad.export(model.loss, example=(params, x, labels), path="loss_grad.py").
"""
_COVERAGE_EXAMPLES = """examples:
  srcgrad coverage                 # rewrite docs/coverage.md
  srcgrad coverage --check         # exit 1 if docs/coverage.md is stale
"""


def _shape_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shapes", default=None, metavar="x=3x4,y=4,s=",
                        help="the code a call with float64 arrays of these shapes runs "
                        "(NAME= for a scalar)")


def _export_parser(sub) -> None:
    p = sub.add_parser("export", help="write the derivative as a standalone module "
                       "(no srcgrad needed to run it)", epilog=_EXPORT_EXAMPLES,
                       formatter_class=_RAW)
    p.add_argument("target", metavar="FILE.py:FUNC", help="the file and the function in it")
    p.add_argument("--wrt", default=None,
                   help="comma-separated parameter names or indices (default: the first)")
    p.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                   help="reverse (gradient) or forward (tangent) code; default reverse")
    _shape_options(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT.py",
                   help="the module to write")


def _load_function(path: str, name: str):
    if not os.path.isfile(path):
        raise _Failure(f"{path}: no such file")
    module_name = "srcgrad_cli_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise _Failure(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    # Like `python FILE`: the file's folder, and the current one, are importable.
    for folder in (os.getcwd(), os.path.dirname(os.path.abspath(path))):
        sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise _Failure(f"{path}:{exc.lineno}:{exc.offset}: syntax error: {exc.msg}") from None
    except Exception as exc:  # the user's module failed at import: report, do not trace
        raise _Failure(f"{path}: importing it raised {type(exc).__name__}: {exc}") from None
    fn = _method(path, module, name) if "." in name else getattr(module, name, None)
    if fn is None or not callable(fn):
        defined = sorted(k for k, v in vars(module).items()
                         if callable(v) and getattr(v, "__module__", None) == module_name)
        raise _Failure(f"{path}: no function named {name!r}"
                       + (f" (it defines: {', '.join(defined)})" if defined else ""))
    # Under other decorators, the function they wrap; @srcgrad.grad's own code is shown
    # as is (derivative_source shows the gradient code such a function runs).
    while hasattr(fn, "__wrapped__") and len(getattr(fn, "__srcgrad_derivative__", ())) != 4:
        fn = fn.__wrapped__
    return fn


def _method(path: str, module: object, name: str):
    """``Class.method``: the method bound to ``Class()`` (a class that needs arguments
    to be made cannot be shown this way)."""
    owner_name, _, method = name.rpartition(".")
    owner: object = module
    for part in owner_name.split("."):
        owner = getattr(owner, part, None)
    if not isinstance(owner, type):
        return None
    try:
        obj = owner()
    except Exception as exc:  # noqa: BLE001 - the user's constructor
        raise _Failure(f"{path}: showing {name} needs an instance, and {owner_name}() raised "
                       f"{type(exc).__name__}: {exc}; show a module-level function that "
                       "calls the method on an object instead") from None
    return getattr(obj, method, None)


def _wrt(text: str | None):
    if text is None:
        return 0
    items = [int(w) if w.strip().lstrip("-").isdigit() else w.strip() for w in text.split(",")]
    return items[0] if len(items) == 1 else tuple(items)


def _coverage(args) -> int:
    text = coverage.table()
    if args.check:
        try:
            with open(args.output) as fh:
                current = fh.read()
        except OSError:
            current = None
        if current != text:
            print(f"srcgrad: {args.output} is stale; run `srcgrad coverage`", file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as fh:
        fh.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "coverage":
        return _coverage(args)
    if args.command == "graph":
        return _graph(args)
    path, sep, name = args.target.rpartition(":")
    if not sep or not path or not name:
        parser.error(f"expected FILE.py:FUNC, got {args.target!r}")
    try:
        fn = _load_function(path, name)
        wrt = _wrt(args.wrt)
        made: tuple[object, ...] = getattr(fn, "__srcgrad_derivative__", ())
        if len(made) == 4 and (args.wrt or args.mode != "reverse" or
                               getattr(args, "order", 1) != 1):
            fn = made[1]  # other code than the @srcgrad.grad function runs: of f itself
        if args.command == "export":
            _export.export(fn, wrt, args.mode, shapes=args.shapes, path=args.output)
            print(f"srcgrad: wrote {args.output}", file=sys.stderr)
            return 0
        text = _shown_text(args, fn, wrt)
    except (_Failure, SrcgradError) as exc:
        print(f"srcgrad: {exc}", file=sys.stderr)
        return 1
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    if colour and not args.ir:
        text = highlight.diff(text) if args.diff else highlight.highlight(text)
    sys.stdout.write(text)
    return 0


def _shown_text(args, fn, wrt) -> str:
    """What ``show`` prints: the IR, the source, or the optimizer's diff."""
    if (args.shapes or args.diff or args.backend != "python") and (args.ir or args.order != 1):
        raise _Failure("--shapes, --diff and --backend show Python code of order 1: leave "
                       "out --ir and --order")
    if args.ir:
        return api.derivative_ir(fn, wrt, args.mode)
    if args.shapes is None and not args.diff:
        return api.derivative_source(fn, wrt, args.mode, args.order, optimized=not args.no_opt,
                                     backend=args.backend)
    example = None if args.shapes is None else \
        _export.example_from_shapes(fn, _export.parse_shapes(args.shapes))

    def code(optimized: bool) -> str:
        if example is None:
            return api.derivative_source(fn, wrt, args.mode, optimized=optimized,
                                         backend=args.backend)
        shown = _export.specialized(fn, wrt, args.mode, optimized, example, args.backend)
        return shown_module.module_text(shown)

    if not args.diff:
        return code(not args.no_opt)
    before, after = code(False), code(True)
    return "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                        after.splitlines(keepends=True),
                                        "transform (--no-opt)", "optimized"))


if __name__ == "__main__":
    sys.exit(main())
