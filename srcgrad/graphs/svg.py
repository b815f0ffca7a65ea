"""The graph as an SVG document, written as text (nothing to install).

Contract: ``render(graph)`` returns a standalone SVG 1.1 document (UTF-8 text that
parses as XML) of ``layout.place(graph)``: one rounded box per node (inputs green,
the output blue, regions dashed, a node used more than once with a thick orange
border and a note), one arrow per edge labelled with its primitive, the value and
the adjoint in each box, and a legend line. All text is XML-escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from . import layout
from .model import Graph

FILL = {"input": "#e3f4e1", "output": "#dde8fb", "value": "#ffffff", "constant": "#f3f3f3",
        "region": "#fafafa"}
STYLE = {"title": 'font-weight="bold" fill="#111"', "value": 'fill="#222"',
         "adjoint": 'fill="#b3261e"', "note": 'fill="#9a5b00" font-style="italic"'}


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def render(graph: Graph) -> str:
    p = layout.place(graph)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{p.width:.0f}" '
           f'height="{p.height:.0f}" viewBox="0 0 {p.width:.0f} {p.height:.0f}" '
           'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
           f"<title>{escape('computation graph of ' + graph.name)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="18" y="22" fill="#444">{escape(graph.name)}: {escape(p.legend)}</text>']
    for e, points in p.routes:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="#555" stroke-width="1.3" '
                   'marker-end="url(#arrow)"/>')
        if e.label:
            (x0, y0), (x1, y1) = points[-2], points[-1]
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            out.append(f'<text x="{mx:.1f}" y="{my - 4:.1f}" text-anchor="middle" '
                       f'fill="#1a4d8f" font-size="13" paint-order="stroke" stroke="white" '
                       f'stroke-width="3">{escape(e.label)}</text>')
    for node in graph.nodes:
        b = p.boxes[node.id]
        fan = p.fanout.get(node.id, 0) > 1
        stroke = "#d97a00" if fan else "#333"
        width = 3 if fan or node.kind == "output" else 1.2
        dash = ' stroke-dasharray="6 4"' if node.kind == "region" else ""
        out.append(f'<g><title>{_attr(node.label)}</title>'
                   f'<rect x="{b.x - b.w / 2:.1f}" y="{b.y - b.h / 2:.1f}" width="{b.w:.1f}" '
                   f'height="{b.h:.1f}" rx="8" fill="{FILL[node.kind]}" stroke="{stroke}" '
                   f'stroke-width="{width}"{dash}/>')
        top = b.y - b.h / 2 + layout.PAD / 2 + layout.LINE * 0.8
        for k, (text, style) in enumerate(b.lines):
            out.append(f'<text x="{b.x:.1f}" y="{top + k * layout.LINE:.1f}" '
                       f'text-anchor="middle" {STYLE[style]}>{escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
