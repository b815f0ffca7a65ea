"""The benchmark's plot: gradient time over primal time per workload and implementation,
and the gradient-vs-finite-differences curve. Needs matplotlib (the ``bench`` extra);
without it, ``plot`` says so and draws nothing.
"""

from __future__ import annotations

import os


def plot(all_results, fd_rows, path: str, gradients: tuple[str, ...],
         labels: dict[str, str]) -> str:
    """Draws to ``path``; returns what to print."""
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed: no plot (pip install -e '.[bench]')"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(15, 6), gridspec_kw={"width_ratios": [2, 1]})
    names = [w.name for w in all_results]
    width = 0.8 / len(gradients)
    for k, impl in enumerate(gradients):
        ys, xs = [], []
        for j, r in enumerate(all_results.values()):
            if r[impl].status == "ok":
                xs.append(j + (k - (len(gradients) - 1) / 2) * width)
                ys.append(r[impl].median / r["f"].median)
        ax.bar(xs, ys, width, label=labels[impl])
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("gradient time / primal time (log scale; lower is better)")
    ax.set_title("Gradient cost relative to the function (medians, one run)")
    ax.legend(fontsize=8)
    if fd_rows:
        ns = [row["n"] for row in fd_rows]
        for key, label in (("f", "f"), ("hand", "hand NumPy"), ("srcgrad", "srcgrad"),
                           ("fd", "central differences")):
            if all(key in row for row in fd_rows):
                ax2.plot(ns, [row[key] for row in fd_rows], marker="o", label=label)
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_xlabel("input size n")
        ax2.set_ylabel("seconds per call")
        ax2.set_title("Gradient vs finite differences")
        ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot written to {os.path.relpath(path)}"
