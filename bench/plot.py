"""The benchmark's picture: throughput over time, CPU per page by stage, memory over time.

matplotlib with the Agg backend (no display needed); one PNG per run next to the JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STAGE_COLOURS = {
    "fetch (bare Scrapy)": "#4c72b0",
    "decode + follow links (crawler)": "#64b5cd",
    "parse + read links (worker)": "#ccb974",
    "extraction": "#dd8452",
    "language detection": "#c44e52",
    "WARC writing + state": "#55a868",
    "IPC (pickling)": "#8172b3",
    "other (measured total − stages)": "#b0b0b0",
}


def plot_run(path: Path, results: dict[str, Any], series: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    ax = axes[0]
    for name, points in series.get("throughput", {}).items():
        if points:
            xs, ys = zip(*points, strict=True)
            ys = _smooth(list(ys), 3)
            run = name.split(" ")[0]
            fig_value = results["runs"].get(run, {}).get("pages_per_s", 0)
            label = f"{name}, {fig_value:.1f} pages/s over the window" if "archived" not in name else name
            ax.plot(xs, ys, label=label, linestyle="--" if "archived" in name else "-")
    ax.set_title("Throughput (article pages per second, 3 s mean)")
    ax.set_xlabel("seconds since first article page")
    ax.set_ylabel("pages/s")
    ax.grid(alpha=0.3)
    ax.legend()

    ax = axes[1]
    split = results.get("stage_split", {}).get("ms_per_page", {})
    runs = results["runs"]
    bars: list[tuple[str, dict[str, float]]] = []
    if "bare" in runs:
        bars.append(("bare Scrapy\n(measured)", {"fetch (bare Scrapy)": runs["bare"]["cpu_ms_per_page"]}))
    if split:
        bars.append(("full pipeline\n(stages)", split))
    if "full" in runs:
        by_proc = runs["full"]["cpu_ms_per_page_by_process"]
        bars.append(
            ("full pipeline\n(measured, by process)", {f"process: {k}": v for k, v in by_proc.items()})
        )
    colours = dict(STAGE_COLOURS)
    extra = ["#937860", "#da8bc3", "#8c8c8c", "#ccb974"]
    for x, (_label, parts) in enumerate(bars):
        bottom = 0.0
        for key, value in parts.items():
            if value <= 0:
                continue
            colour = colours.setdefault(key, extra[len(colours) % len(extra)])
            ax.bar(x, value, bottom=bottom, color=colour, label=key, width=0.6)
            if value >= 1.5:
                ax.text(x, bottom + value / 2, f"{value:.1f}", ha="center", va="center", fontsize=8)
            bottom += value
        ax.text(x, bottom + 0.5, f"{bottom:.1f} ms", ha="center", va="bottom", fontsize=9)
    ax.axhline(30, color="red", linestyle="--", linewidth=1, label="target 30 ms")
    ax.set_xticks(range(len(bars)), [b[0] for b in bars])
    ax.set_ylabel("CPU ms per page (all processes)")
    ax.set_title("CPU per archived page, by stage and by process")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), fontsize=7, loc="upper left")
    ax.grid(axis="y", alpha=0.3)

    ax = axes[2]
    for name, points in series.get("rss", {}).items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=name)
    ax.axhline(300, color="red", linestyle="--", linewidth=1, label="crawler limit 300 MB")
    ax.axhline(200, color="orange", linestyle="--", linewidth=1, label="worker limit 200 MB")
    ax.set_title("Memory (RSS) of the full pipeline's processes")
    ax.set_xlabel("seconds since crawl start")
    ax.set_ylabel("MB")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)

    title = results.get("title", "newsarchive benchmark")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_memory(path: Path, memory: dict[str, Any], series: dict[str, list[tuple[float, float]]]) -> None:
    """RSS against pages crawled for the long run: flat lines are the goal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    ax = axes[0]
    for name, points in series.items():
        if name.startswith("_") or not points:
            continue
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, label=name)
    ax.axhline(300, color="red", linestyle="--", linewidth=1, label="crawler limit 300 MB")
    ax.axhline(200, color="orange", linestyle="--", linewidth=1, label="worker limit 200 MB")
    ax.set_xlabel("article pages fetched")
    ax.set_ylabel("RSS, MB")
    ax.set_title(f"Memory over a {memory['pages']:,}-page crawl")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[1]
    points = series.get("_throughput", [])
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, _smooth(list(ys), 3))
    ax.set_xlabel("seconds")
    ax.set_ylabel("pages/s (30 s mean)")
    ax.set_title("Throughput")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _smooth(values: list[float], width: int) -> list[float]:
    out = []
    for i in range(len(values)):
        chunk = values[max(0, i - width + 1) : i + 1]
        out.append(sum(chunk) / len(chunk))
    return out
