"""The graph as a PNG image, drawn with matplotlib (the ``viz`` extra).

Contract: ``render(graph)`` returns the bytes of a PNG of ``layout.place(graph)``,
drawn like the SVG (same boxes, colours, arrows and labels). Without matplotlib it
raises ``UsageError`` saying to ``pip install srcgrad[viz]`` (SVG and DOT need
nothing).
"""

from __future__ import annotations

import io

from ..errors import UsageError
from . import layout, svg
from .model import Graph

DPI = 100
_COLOR = {"title": "#111111", "value": "#222222", "adjoint": "#b3261e", "note": "#9a5b00"}


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("writing PNG needs matplotlib, which is not installed",
                         hint="pip install srcgrad[viz] (or pip install matplotlib); "
                         "SVG and DOT need nothing: save to a .svg or .dot file.") from None
    return plt


def render(graph: Graph) -> bytes:
    plt = _pyplot()
    from matplotlib.patches import FancyBboxPatch

    p = layout.place(graph)
    fig = plt.figure(figsize=(p.width / DPI, p.height / DPI), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, p.width)
    ax.set_ylim(p.height, 0)
    ax.axis("off")
    ax.text(18, 22, f"{graph.name}: {p.legend}", color="#444444", fontsize=9)
    for e, points in p.routes:
        xs, ys = zip(*points)
        ax.plot(xs[:-1], ys[:-1], color="#555555", lw=1.1)
        ax.annotate("", xy=points[-1], xytext=points[-2],
                    arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.1})
        if e.label:
            (x0, y0), (x1, y1) = points[-2], points[-1]
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 - 4, e.label, ha="center", va="bottom",
                    color="#1a4d8f", fontsize=10,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    for node in graph.nodes:
        b = p.boxes[node.id]
        fan = p.fanout.get(node.id, 0) > 1
        ax.add_patch(FancyBboxPatch((b.x - b.w / 2, b.y - b.h / 2), b.w, b.h,
                                    boxstyle="round,pad=0,rounding_size=8",
                                    facecolor=svg.FILL[node.kind],
                                    edgecolor="#d97a00" if fan else "#333333",
                                    lw=2.5 if fan or node.kind == "output" else 1.0,
                                    ls="--" if node.kind == "region" else "-"))
        top = b.y - b.h / 2 + layout.PAD / 2 + layout.LINE / 2
        for k, (text, style) in enumerate(b.lines):
            ax.text(b.x, top + k * layout.LINE, text, ha="center", va="center", fontsize=9,
                    color=_COLOR[style], fontweight="bold" if style == "title" else "normal")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()
