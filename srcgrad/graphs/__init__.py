"""The computation graph of a function at a point, pictured (the graphs stage).

(The package is ``graphs``: ``srcgrad.graph`` is its ``graph`` function.)

``graph(f, *args, **kwargs)`` returns a ``Graph``: the values ``f`` computes at these
arguments, under the user's names, each with its value and its adjoint (the
derivative of the output with respect to it, from srcgrad's own reverse-mode code),
joined by the primitives that compute them. It renders as SVG (``.svg()``), DOT
(``.dot()``) and PNG (``.png()``, with matplotlib), ``.save(path)`` by suffix, and
shows itself in Jupyter. ``build`` makes it, ``straighten`` takes the branches and
unrolls the small loops, ``labels`` writes its text, ``layout`` places it, ``svg``,
``dot`` and ``png`` draw it (docs/graph.md).
"""

from __future__ import annotations

from collections.abc import Callable

from .build import collect
from .model import Edge, Graph, Node
from .straighten import GraphTooLarge


def graph(f: Callable, *args: object, max_nodes: int = 300, unroll: int = 10,
          **kwargs: object) -> Graph:
    """The computation graph of ``f`` at ``f(*args, **kwargs)``, with values and
    adjoints. Loops of at most ``unroll`` iterations are drawn iteration by iteration,
    longer ones as one box; more than ``max_nodes`` nodes is a ``GraphTooLarge``
    error."""
    return collect(f, args, kwargs, unroll, max_nodes)


__all__ = ["Edge", "Graph", "GraphTooLarge", "Node", "graph"]
