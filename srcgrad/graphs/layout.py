"""A layered (Sugiyama-style) layout of a graph, left to right, shared by SVG and PNG.

Contract: ``place(graph)`` returns a ``Placement``: each node's box (centre, width,
height, the text lines it shows) and each edge's route (a polyline from the source
box's right side to the target box's left side). Layers: the longest path from the
nodes with no inputs (inputs and constants in column 0, every value one column to the
right of the last value it reads). An edge spanning several columns passes through a
dummy point in each column between, so it bends around boxes instead of crossing
them. Within a column, nodes are ordered by a few barycenter sweeps (each node at the
mean position of its neighbours in the previous column, then the next), which
reduces crossings. Sizes are estimated from character counts (``CHAR`` pixels per
character), the same for every renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Edge, Graph, Node

CHAR = 7.4  # pixels per character at the 12px font the renderers use
LINE = 16.0  # pixels per text line
PAD = 8.0
COLUMN_GAP = 70.0
ROW_GAP = 22.0
SWEEPS = 4


@dataclass
class Box:
    x: float  # centre
    y: float
    w: float
    h: float
    lines: list[tuple[str, str]]  # (text, style): title, value, adjoint, note


@dataclass
class Placement:
    boxes: dict[str, Box]
    routes: list[tuple[Edge, list[tuple[float, float]]]]
    width: float
    height: float
    legend: str = ""
    fanout: dict[str, int] = field(default_factory=dict)


def lines(node: Node, fan: int) -> list[tuple[str, str]]:
    """The text a node's box shows, one (text, style) a line."""
    if node.kind == "region":
        return [(node.label, "title"), ("drawn as one box", "note")]
    tag = {"input": "  (input)", "output": "  (output)"}.get(node.kind, "")
    out = [(node.label + tag, "title")]
    out += [(("value = " if i == 0 else "") + t, "value")
            for i, t in enumerate(node.value_lines())]
    out += [(("adjoint = " if i == 0 else "") + t, "adjoint")
            for i, t in enumerate(node.adjoint_lines())]
    if fan > 1:
        out.append((f"fan-out {fan}: adjoint sums {fan} paths", "note"))
    return out


def _layers(graph: Graph) -> dict[str, int]:
    layer: dict[str, int] = {}
    preds: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in graph.edges:
        preds[e.dst].append(e.src)
    for n in graph.nodes:  # nodes come in program order: sources before their uses
        layer[n.id] = 1 + max((layer[p] for p in preds[n.id] if p in layer), default=-1)
    return layer


def _order(columns: list[list[str]], links: list[tuple[str, str]]) -> None:
    """Barycenter sweeps, in place: forward by predecessors, backward by successors."""
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for a, b in links:
        preds.setdefault(b, []).append(a)
        succs.setdefault(a, []).append(b)
    for _ in range(SWEEPS):
        for rng, near in ((range(1, len(columns)), preds),
                          (range(len(columns) - 2, -1, -1), succs)):
            for c in rng:
                pos = {n: i for col in columns for i, n in enumerate(col)}
                columns[c] = [n for _, n in sorted(enumerate(columns[c]),
                                                   key=lambda item: _barycenter(item, near, pos))]


def _barycenter(item: tuple[int, str], near: dict[str, list[str]], pos: dict[str, int]
                ) -> float:
    """The mean position of a node's neighbours (its own position if it has none)."""
    i, n = item
    others = near.get(n, [])
    return sum(pos[o] for o in others) / len(others) if others else i


def place(graph: Graph) -> Placement:
    """See the module docstring."""
    layer = _layers(graph)
    count = max(layer.values(), default=0) + 1
    columns: list[list[str]] = [[] for _ in range(count)]
    for n in graph.nodes:
        columns[layer[n.id]].append(n.id)
    links: list[tuple[str, str]] = []
    chains: list[tuple[Edge, list[str]]] = []
    for k, e in enumerate(graph.edges):
        chain = [e.src]
        for c in range(layer[e.src] + 1, layer[e.dst]):
            dummy = f"\0{k}:{c}"
            columns[c].append(dummy)
            chain.append(dummy)
        chain.append(e.dst)
        links += list(zip(chain, chain[1:]))
        chains.append((e, chain))
    _order(columns, links)
    fan = {n.id: graph.fanout(n.id) for n in graph.nodes}
    boxes: dict[str, Box] = {}
    for n in graph.nodes:
        text = lines(n, fan[n.id])
        w = max(len(t) for t, _ in text) * CHAR + 2 * PAD
        boxes[n.id] = Box(0.0, 0.0, w, len(text) * LINE + PAD, text)
    x = PAD + 10
    heights = [sum(boxes[i].h if i in boxes else 6.0 for i in col) + ROW_GAP * len(col)
               for col in columns]
    tallest = max(heights, default=0.0)
    for col, h in zip(columns, heights):
        width = max((boxes[i].w for i in col if i in boxes), default=20.0)
        y = 40.0 + (tallest - h) / 2
        for i in col:
            if i in boxes:
                b = boxes[i]
                b.x, b.y = x + width / 2, y + b.h / 2
                y += b.h + ROW_GAP
            else:
                boxes[i] = Box(x + width / 2, y + 3, 0.0, 0.0, [])
                y += 6.0 + ROW_GAP
        x += width + COLUMN_GAP
    routes = []
    for e, chain in chains:
        a, b = boxes[chain[0]], boxes[chain[-1]]
        points = [(a.x + a.w / 2, a.y)] + [(boxes[d].x, boxes[d].y) for d in chain[1:-1]]
        routes.append((e, points + [(b.x - b.w / 2, b.y)]))
    real = {k: v for k, v in boxes.items() if not k.startswith("\0")}
    out = next((n.label for n in graph.nodes if n.kind == "output"), "output")
    return Placement(real, routes, x - COLUMN_GAP + PAD + 10, tallest + 60.0,
                     f"adjoint = ∂{out}/∂node, at the point", fan)
