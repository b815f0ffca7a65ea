"""The chain rule as a sum over paths, against backpropagation.

A layered graph: w inputs x[0..w-1], then n layers of w scalar nodes each,

    h[k+1][i] = sin(W[k, i, 0] * h[k][0] + ... + W[k, i, w-1] * h[k][w-1])

(h[0] is x), and the output y = h[n][0] + ... + h[n][w-1]. Every node of a layer
feeds every node of the next, so a path from an input to y picks one node in each
of the n layers: w**n paths from each input, w**(n+1) in all. The chain rule
written as a sum over paths adds, for each path, the product of the local
derivatives along its edges (cos(pre) * W[k, i, j] for the edge h[k][j] -> h[k+1][i],
1 into y). Backpropagation shares the common suffixes of those products: it visits
each edge once, so its work is linear in the n * w * w + w edges.

The function is written out as scalar code, one statement per node (``layered_source``
writes it for given n and w), so the generated gradient is the chain rule written out
too; ``main`` prints, for growing n, the number of paths against the number of
statements and multiplications of srcgrad's generated gradient, and checks on a small
instance that the explicit sum over all paths equals srcgrad's gradient.

Run ``python examples/paths.py`` (``--quick`` for small sizes).
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

import srcgrad


def layered_source(n: int, w: int) -> str:
    """Python source of ``layered(x, W)``: n layers of width w, one statement a node."""
    lines = ["import math", "", "", "def layered(x, W):"]
    previous = [f"x[{j}]" for j in range(w)]
    for k in range(n):
        current = []
        for i in range(w):
            terms = " + ".join(f"W[{k}, {i}, {j}] * {previous[j]}" for j in range(w))
            lines.append(f"    h{k + 1}_{i} = math.sin({terms})")
            current.append(f"h{k + 1}_{i}")
        previous = current
    lines.append(f"    return {' + '.join(previous)}")
    return "\n".join(lines) + "\n"


def layered_function(n: int, w: int, folder: str | None = None) -> Callable:
    """``layered`` for n and w, written to a file (srcgrad reads a function's source
    from its file) and imported."""
    where = Path(folder or tempfile.mkdtemp(prefix="srcgrad_paths_"))
    path = where / f"layered_{n}_{w}.py"
    path.write_text(layered_source(n, w))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.layered


def path_count(n: int, w: int) -> int:
    """Paths from the inputs to y: w choices in each of the n layers, for each of w inputs."""
    return w ** (n + 1)


def edge_count(n: int, w: int) -> int:
    return n * w * w + w


def forward_values(x: np.ndarray, W: np.ndarray) -> list[np.ndarray]:
    """The pre-activations of each layer (NumPy, independent of srcgrad)."""
    pre, h = [], x
    for k in range(W.shape[0]):
        z = W[k] @ h
        pre.append(z)
        h = np.sin(z)
    return pre


def gradient_by_paths(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """dy/dx as the sum over all w**(n+1) paths of the product of local derivatives."""
    n, w = W.shape[0], W.shape[1]
    pre = forward_values(x, W)
    grad = np.zeros(w)
    for start in range(w):
        for nodes in itertools.product(range(w), repeat=n):  # the node picked in each layer
            product, previous = 1.0, start
            for k, node in enumerate(nodes):
                product *= math.cos(pre[k][node]) * W[k, node, previous]
                previous = node
            grad[start] += product  # the last edge, into y, has derivative 1
    return grad


def generated_counts(fn: Callable) -> tuple[int, int]:
    """Statements and multiplications in the body of srcgrad's generated gradient."""
    tree = ast.parse(srcgrad.derivative_source(fn, wrt="x"))
    body = next(node for node in tree.body if isinstance(node, ast.FunctionDef))
    statements = sum(isinstance(node, ast.stmt) for node in ast.walk(body)) - 1
    products = sum(isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
                   for node in ast.walk(body))
    return statements, products


def instance(n: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=w), rng.normal(size=(n, w, w)) / math.sqrt(w)


def check(n: int, w: int, folder: str | None = None) -> float:
    """Largest difference between the sum over paths and srcgrad's gradient."""
    x, W = instance(n, w)
    by_paths = gradient_by_paths(x, W)
    by_srcgrad = srcgrad.grad(layered_function(n, w, folder), wrt="x")(x, W)
    return float(np.max(np.abs(by_paths - by_srcgrad)))


def main(quick: bool = False) -> None:
    w = 3
    depths = range(1, 5) if quick else range(1, 11)
    print(f"layered graph of width w = {w}: paths from the inputs to y against the work "
          "of srcgrad's generated gradient")
    print(f"{'n':>3} {'paths w**(n+1)':>15} {'edges':>6} {'statements':>11} {'products':>9}")
    with tempfile.TemporaryDirectory(prefix="srcgrad_paths_") as folder:
        for n in depths:
            statements, products = generated_counts(layered_function(n, w, folder))
            print(f"{n:>3} {path_count(n, w):>15} {edge_count(n, w):>6} "
                  f"{statements:>11} {products:>9}")
        print()
        n = 3 if quick else 4
        print(f"n = {n}, w = {w}: the sum over all {path_count(n, w)} paths against "
              f"srcgrad's gradient, largest difference {check(n, w, folder):.2e}")
        print()
        print("the generated gradient for n = 2, w = 2 (each block is one node's adjoint):")
        print(srcgrad.derivative_source(layered_function(2, 2, folder), wrt="x"))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
