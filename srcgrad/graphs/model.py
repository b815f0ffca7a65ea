"""The computation graph at a point: what is drawn, in every format.

Contract: a ``Graph`` holds ``nodes`` (``Node``: an id, the label the user reads, a
kind, its value and adjoint at the point, the source line) and ``edges`` (``Edge``:
source id, target id, the primitive's label). ``kind`` is ``input`` (a parameter),
``output`` (what the function returns), ``value``, ``constant`` (computed from no
variable) or ``region`` (a loop drawn as one box, no value). ``fanout(id)`` counts a
node's out-edges; more than one is marked on the picture (its adjoint is a sum).

``svg()``, ``dot()`` and ``png()`` render it (``png`` needs matplotlib: the
``viz`` extra); ``save(path)`` picks the format by the suffix; ``_repr_svg_`` shows it
in Jupyter; ``str()`` is a text table, one node a line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import UsageError
from . import labels


@dataclass
class Node:
    id: str
    label: str
    kind: str  # "input" | "output" | "value" | "constant" | "region"
    value: object
    adjoint: object
    line: int | None = None

    def value_lines(self) -> list[str]:
        return [] if self.kind == "region" else labels.summary(self.value)

    def adjoint_lines(self) -> list[str]:
        return [] if self.kind == "region" else labels.summary(self.adjoint)


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    label: str


class Graph:
    def __init__(self, name: str, nodes: list[Node], edges: list[Edge]):
        self.name = name
        self.nodes = nodes
        self.edges = edges
        self._by_id = {n.id: n for n in nodes}

    def node(self, label: str) -> Node:
        """The node the user reads as ``label`` (``a``, ``x**2``, ``s_2 (i=0)``)."""
        for n in self.nodes:
            if n.label == label:
                return n
        raise KeyError(f"{self.name}'s graph has no node {label!r}; it has: "
                       + ", ".join(n.label for n in self.nodes))

    def fanout(self, node_id: str) -> int:
        return sum(1 for e in self.edges if e.src == node_id)

    def inputs_of(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def __str__(self) -> str:
        width = max(len(n.label) for n in self.nodes)
        rows = [f"computation graph of {self.name}: {len(self.nodes)} nodes, "
                f"{len(self.edges)} edges (adjoint: d output / d node)"]
        for n in self.nodes:
            if n.kind == "region":
                rows.append(f"  [{n.label}]")
                continue
            made = self.inputs_of(n.id)
            how = ", ".join(dict.fromkeys(e.label for e in made)) or n.kind
            fan = self.fanout(n.id)
            rows.append(f"  {n.label:<{width}}  {n.kind:<8} value {' '.join(n.value_lines())}"
                        f"  adjoint {' '.join(n.adjoint_lines())}  <- {how}"
                        + (f"  (used {fan} times)" if fan > 1 else ""))
        return "\n".join(rows)

    def svg(self) -> str:
        from .svg import render
        return render(self)

    def dot(self) -> str:
        from .dot import render
        return render(self)

    def png(self) -> bytes:
        from .png import render
        return render(self)

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str) -> str:
        """Write the picture to ``path``; ``.svg``, ``.png`` or ``.dot`` (``.gv``)."""
        suffix = os.path.splitext(path)[1].lower()
        data: str | bytes
        if suffix == ".svg":
            data = self.svg()
        elif suffix in (".dot", ".gv"):
            data = self.dot()
        elif suffix == ".png":
            data = self.png()
        else:
            raise UsageError(f"cannot tell the picture format of {path!r}",
                             hint="Name the file .svg, .png or .dot.")
        if isinstance(data, bytes):
            with open(path, "wb") as fh:
                fh.write(data)
        else:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(data)
        return path
