"""The graph in Graphviz's DOT language, for those who have Graphviz.

Contract: ``render(graph)`` returns a ``digraph`` (left to right) with one node
statement per node (label: name, value, adjoint; inputs, output, regions and nodes
of fan-out > 1 styled as in the SVG) and one edge statement per edge labelled with
its primitive. Every id and label is a double-quoted DOT string with ``"`` and
``\\`` escaped, so any name is valid DOT.
"""

from __future__ import annotations

from . import layout
from .model import Graph

_FILL = {"input": "#e3f4e1", "output": "#dde8fb", "value": "white", "constant": "#f3f3f3",
         "region": "#fafafa"}


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(graph: Graph) -> str:
    legend = layout.place(graph).legend
    out = [f"digraph {quote(graph.name)} {{",
           "  rankdir=LR;",
           f"  label={quote(graph.name + ': ' + legend)}; labelloc=t;",
           '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
           '  edge [fontname="Helvetica", fontcolor="#1a4d8f"];']
    for n in graph.nodes:
        fan = graph.fanout(n.id)
        text = "\n".join(t for t, _ in layout.lines(n, fan))
        attrs = [f"label={quote(text)}", f"fillcolor={quote(_FILL[n.kind])}"]
        if n.kind == "region":
            attrs.append('style="rounded,dashed"')
        if fan > 1:
            attrs += ['color="#d97a00"', "penwidth=3"]
        elif n.kind == "output":
            attrs.append("penwidth=3")
        out.append(f"  {quote(n.id)} [{', '.join(attrs)}];")
    for e in graph.edges:
        out.append(f"  {quote(e.src)} -> {quote(e.dst)} [label={quote(e.label)}];")
    out.append("}")
    return "\n".join(out) + "\n"
