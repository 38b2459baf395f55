"""PNG charts of an evaluation: the main figures per arm, FlowSim per feature."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAIN = [
    "flowsim_outline",
    "flowsim_full",
    "flowsim_outline_validated",
    "flowsim_full_validated",
    "lcss",
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def plot_summary(arms: dict[str, dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(arms))
    for i, (name, figures) in enumerate(arms.items()):
        xs = [j + i * width for j in range(len(MAIN))]
        ax.bar(xs, [figures.get(k, 0.0) for k in MAIN], width, label=name)
    ax.set_xticks([j + width * (len(arms) - 1) / 2 for j in range(len(MAIN))])
    ax.set_xticklabels([k.replace("flowsim_", "").replace("_", "\n") for k in MAIN])
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_features(rows: list[dict[str, Any]], name: str, path: Path) -> None:
    plt = _pyplot()
    shown = [r for r in rows if r["cases"] >= 2][:30]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(shown) + 1.5))
    ys = list(range(len(shown)))
    ax.barh([y + 0.2 for y in ys], [r["flowsim_outline"] for r in shown], 0.4, label="outline")
    ax.barh([y - 0.2 for y in ys], [r["flowsim_full"] for r in shown], 0.4, label="full")
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{r['feature']} ({r['cases']})" for r in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_title(f"FlowSim per feature: {name}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
