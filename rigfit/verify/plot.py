"""`rigfit bench --plot`: this machine's seconds per image beside published figures and the device's own limit.
matplotlib is imported here only (the `plot` extra), never when rigfit starts."""

from __future__ import annotations

from pathlib import Path

from rigfit.verify.benchmark import IMAGE_STEPS, BenchReport, references


class PlotError(Exception):
    pass


def plot_report(report: BenchReport, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotError("--plot needs matplotlib: pip install 'rigfit[plot]'") from exc
    bars: list[tuple[str, float, str]] = []
    for run in report.runs:
        if run.seconds_per_image is not None and not run.error:
            colour = "tab:green" if run is report.best else "tab:blue"
            bars.append((f"this machine: {run.label}", run.seconds_per_image, colour))
    if report.best and (limit := report.physical_limit(report.best.config["dtype"])):
        bars.append(("this device's limit (FLOPs / peak matmul rate)", limit, "tab:gray"))
    for ref, secs in references(report.model) if report.comparable() else []:
        if secs:
            bars.append((f"{ref.device} ({ref.id})", secs, "tab:orange"))
    if not bars:
        raise PlotError("nothing to plot: no configuration finished")
    bars.sort(key=lambda b: b[1])
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(bars) + 1.6))
    ax.barh([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars])
    ax.set_xscale("log")
    ax.set_xlabel(f"seconds per {IMAGE_STEPS}-step image (log scale)")
    size = f"{report.size}x{report.size}" + (" reduced" if report.reduced else "")
    ax.set_title(f"rigfit bench: {report.model} {size} on {report.device}")
    for y, (_, value, _) in enumerate(bars):
        ax.text(value, y, f" {value:.3g} s", va="center", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
