"""Figures in one style: labelled axes, a colour-blind-safe palette, log axes for p.

Helpers draw on a given ``Axes`` and return it, so chapters compose figures in a line or
two; ``figure`` makes a figure with the book's size. Captions live in the chapter text.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() == "agg" else None
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

#: Okabe-Ito palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
NAIVE_COLOR = "#7f7f7f"

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "figure.figsize": (6.4, 3.8),
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
    "axes.titlesize": 10,
    "legend.fontsize": 9,
    # A legend that must sit over data stays readable (and "best" keeps it off the data).
    "legend.loc": "best",
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "figure.constrained_layout.use": True,
}

#: Widest figure, in inches: the book's column (about 800 px at 1400 px) shows a figure of
#: this width saved at ``savefig.dpi`` at 70% or more of its natural width, so text of
#: 7 pt renders at 10 px or more.
MAX_WIDTH = 7.2
#: Narrowest panel of a figure, in inches; wider rows of panels wrap onto more rows.
MIN_PANEL_WIDTH = 3.2


def use_style() -> None:
    """Apply the book's matplotlib style."""
    plt.rcParams.update(STYLE)


use_style()


def _np(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=float)


def column_layout(
    ncols: int, nrows: int, width: float, height: float
) -> tuple[int, int, float, float]:
    """``(ncols, nrows, width, height)`` that fit the book's column: at most ``MAX_WIDTH``
    wide, panels at least ``MIN_PANEL_WIDTH`` wide (a row of more panels wraps onto more
    rows), each panel keeping its aspect ratio."""
    panels = ncols * nrows
    panel_w, panel_h = width / ncols, height / nrows
    fit = max(1, int(MAX_WIDTH // MIN_PANEL_WIDTH))
    if width > MAX_WIDTH and ncols > fit:
        ncols = fit
        nrows = -(-panels // ncols)
    new_w = min(panel_w * ncols, MAX_WIDTH)
    new_panel_w = new_w / ncols
    return ncols, nrows, new_w, panel_h * new_panel_w / panel_w * nrows


def figure(ncols: int = 1, nrows: int = 1, width: float | None = None, height: float | None = None):
    """A figure with ``nrows x ncols`` axes (``axes`` is a flat array when more than one),
    laid out for the book's column (``column_layout``): a figure wider than ``MAX_WIDTH``
    shrinks, and a long row of panels wraps onto more rows (still ``nrows * ncols`` axes,
    in reading order)."""
    width = width or (6.4 if ncols == 1 else 4.2 * ncols)
    height = height or 3.8 * nrows
    panels = ncols * nrows
    ncols, nrows, width, height = column_layout(ncols, nrows, width, height)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    axes = axes.ravel()
    for extra in axes[panels:]:
        extra.remove()
    return fig, (axes[0] if panels == 1 else axes[:panels])


def smooth(values, window: int) -> np.ndarray:
    """Moving average along the first axis (``valid`` part only)."""
    values = _np(values)
    if window <= 1 or values.shape[0] < window:
        return values
    kernel = np.ones(window) / window
    return np.apply_along_axis(lambda column: np.convolve(column, kernel, mode="valid"), 0, values)


def loss_curves(
    ax, losses, labels: Sequence[str] | None = None, window: int = 50, start_step: int = 0, **kwargs
):
    """Training curves: ``losses (T, K)`` smoothed over ``window`` steps, one line per column."""
    values = smooth(losses, window)
    steps = (
        start_step
        + np.arange(values.shape[0])
        + (window - 1 if values.shape[0] < _np(losses).shape[0] else 0)
    )
    for k in range(values.shape[1]):
        ax.plot(steps, values[:, k], label=None if labels is None else labels[k], lw=1.2, **kwargs)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss per feature $L/p$")
    return ax


def joined_loss_curves(ax, phases: Sequence, labels: Sequence[str] | None = None, window: int = 50):
    """One training run in consecutive phases (each ``(T_i, K)``), drawn as one curve per
    instance in one colour, smoothed within each phase, with a dotted line at each switch."""
    start = 0
    for index, phase in enumerate(phases):
        values = smooth(phase, window)
        offset = (window - 1) if values.shape[0] < _np(phase).shape[0] else 0
        steps = start + offset + np.arange(values.shape[0])
        for k in range(values.shape[1]):
            ax.plot(
                steps,
                values[:, k],
                color=PALETTE[k % len(PALETTE)],
                lw=1.2,
                label=None if labels is None or index > 0 else labels[k],
            )
        start += _np(phase).shape[0]
        if index < len(phases) - 1:
            ax.axvline(start, color="k", lw=0.8, ls=":")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss per feature $L/p$")
    return ax


def reference_line(ax, value: float, label: str = "naive baseline", **kwargs):
    """A dashed horizontal line (for example the naive loss)."""
    ax.axhline(
        value, color=kwargs.pop("color", NAIVE_COLOR), ls="--", lw=1.2, label=label, **kwargs
    )
    return ax


def line_with_band(ax, x, mean, lower, upper, label: str | None = None, color=None, **kwargs):
    """A line with a shaded band (for example the spread over seeds)."""
    x, mean, lower, upper = map(_np, (x, mean, lower, upper))
    (line,) = ax.plot(x, mean, label=label, color=color, **kwargs)
    ax.fill_between(x, lower, upper, color=line.get_color(), alpha=0.2, lw=0)
    return ax


def lines_with_bands(ax, x, means, lowers, uppers, labels: Sequence[str] | None = None, **kwargs):
    """One line with a band per row of ``means`` (``(G, X)``), coloured ``PALETTE[g]``."""
    means, lowers, uppers = map(_np, (means, lowers, uppers))
    for g in range(means.shape[0]):
        label = None if labels is None else labels[g]
        line_with_band(
            ax,
            x,
            means[g],
            lowers[g],
            uppers[g],
            label=label,
            color=PALETTE[g % len(PALETTE)],
            **kwargs,
        )
    return ax


def errorbars(ax, x, mean, err, label: str | None = None, **kwargs):
    """Points with error bars."""
    ax.errorbar(
        _np(x),
        _np(mean),
        yerr=_np(err),
        fmt=kwargs.pop("fmt", "o"),
        capsize=3,
        label=label,
        **kwargs,
    )
    return ax


def log_p_axis(ax, label: str = "feature probability $p$"):
    """Logarithmic x axis labelled as a feature probability."""
    ax.set_xscale("log")
    ax.set_xlabel(label)
    return ax


# --------------------------------------------------------------------------- regimes chapter
# Figures 7-9 of paper 000 (sparse and dense regimes).


def regime_colors(values: Sequence[float]) -> list:
    """One colour per training probability, violet (sparse) to green (dense) on a log scale."""
    logs = np.log10(_np(values))
    span = max(float(logs.max() - logs.min()), 1e-12)
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.9 * (v - logs.min()) / span) for v in logs]


def regime_curves(ax, p_eval, curves, train_ps: Sequence[float], at_train=None):
    """Figure 7: one loss-vs-``p_eval`` line per training probability (``curves (G, P)``),
    coloured by :func:`regime_colors` with a colour bar of the training ``p`` (ticks at the
    trained values); ``at_train (G,)`` marks each model at its own ``p`` (black circles
    joined by a dotted line)."""
    curves = _np(curves)
    for curve, color in zip(curves, regime_colors(train_ps), strict=True):
        ax.plot(_np(p_eval), curve, color=color, lw=1.4)
    ps = _np(train_ps)
    cmap = matplotlib.colors.ListedColormap(
        matplotlib.colormaps["viridis"](np.linspace(0, 0.9, 256))
    )
    scale = matplotlib.cm.ScalarMappable(
        norm=matplotlib.colors.LogNorm(ps.min(), max(ps.max(), ps.min() * 1.0001)), cmap=cmap
    )
    bar = ax.figure.colorbar(scale, ax=ax, label="training $p$", shrink=0.9)
    bar.ax.plot([0.5] * len(ps), ps, "_", color="w", ms=10)
    if at_train is not None:
        ax.plot(train_ps, _np(at_train), "o:", color="k", ms=4, lw=1, label="at own training p")
    log_p_axis(ax, "evaluation feature probability $p$")
    ax.set_ylabel("loss per feature $L/p$")
    return ax


def one_hot_lines(ax, values, responses, target=None, highlight: Sequence[int] = ()):
    """Figure 8: output ``i`` against the input value ``t`` of feature ``i`` alone, one thin
    line per feature (``responses (T, n)``), with the ideal response ``target (T,)`` dashed."""
    t, r = _np(values), _np(responses)
    ax.plot(t, r, color=PALETTE[0], lw=0.6, alpha=0.35)
    for i in highlight:
        ax.plot(t, r[:, i], color=PALETTE[5], lw=1.2)
    if target is not None:
        ax.plot(t, _np(target), ls="--", color=PALETTE[2], lw=2, label="ideal response")
    ax.set_xlabel("input value $x_i$ (all other features 0)")
    ax.set_ylabel("output $\\hat y_i$")
    return ax


def stacked_contributions(ax, contrib, order=None):
    """Figure 9: one bar per feature, stacked by neuron (``contrib (n, d)``); positive
    parts stack upwards, negative ones downwards; colour = neuron index (with a colour
    bar)."""
    c = _np(contrib)
    if order is not None:
        c = c[_np(order).astype(int)]
    n, d = c.shape
    cmap = matplotlib.colormaps["viridis"]
    colors = cmap(np.linspace(0, 1, d))
    up, down = np.zeros(n), np.zeros(n)
    for j in range(d):
        pos, neg = c[:, j].clip(min=0), c[:, j].clip(max=0)
        ax.bar(np.arange(n), pos, bottom=up, color=colors[j], width=0.9, lw=0)
        ax.bar(np.arange(n), neg, bottom=down, color=colors[j], width=0.9, lw=0)
        up, down = up + pos, down + neg
    ax.axhline(0, color="k", lw=0.6)
    scale = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0, d - 1), cmap=cmap)
    ax.figure.colorbar(scale, ax=ax, label="neuron $j$", shrink=0.9)
    ax.set_xlabel("feature (sorted by its largest single-neuron term)")
    ax.set_ylabel("$W_{\\mathrm{out}}[i, j]\\,W_{\\mathrm{in}}[j, i]$ by neuron $j$")
    return ax


# --------------------------------------------------------------------------- mechanism
def upper_limit(values, step: float = 0.05) -> float:
    """The largest of ``values`` rounded up to a multiple of ``step`` (a colour scale's top)."""
    top = float(np.nanmax(np.concatenate([_np(v).ravel() for v in values])))
    return max(step, float(np.ceil(top / step) * step))


def alignment_map(
    ax, values, title: str, xlabel: str, ylabel: str = "neuron", mark=None, vmax=None
):
    """``|cos|`` of neuron directions (rows) with basis vectors (columns) as an image from 0
    to ``vmax`` (default: the largest value, rounded up); ``mark`` draws a dotted vertical
    line after that many columns. Returns the image (for a colour bar)."""
    vmax = upper_limit([values]) if vmax is None else vmax
    image = ax.imshow(_np(values), aspect="auto", cmap="viridis", vmin=0, vmax=vmax)
    if mark is not None:
        ax.axvline(mark - 0.5, color="w", ls=":", lw=1.2)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(False)
    return image


def entry_scatter(ax, m, a, offdiag_line: tuple[float, float], diag_line: tuple[float, float]):
    """Entries of ``a`` against those of ``m`` (both ``(n, n)``): off-diagonal and diagonal
    entries in two colours, each with its fitted line ``(slope, intercept)``."""
    m, a = _np(m), _np(a)
    off = ~np.eye(m.shape[0], dtype=bool)
    ax.scatter(m[off], a[off], s=2, alpha=0.25, color=PALETTE[0], lw=0, label="off-diagonal")
    ax.scatter(np.diag(m), np.diag(a), s=8, color=PALETTE[5], lw=0, label="diagonal")
    x = np.linspace(m.min(), m.max(), 2)
    for (slope, intercept), color in [(offdiag_line, PALETTE[0]), (diag_line, PALETTE[5])]:
        ax.plot(x, slope * x + intercept, color=color, lw=1.2, ls="--")
    ax.set_xlabel("entry of $M$")
    ax.set_ylabel(r"entry of $W_\mathrm{out} W_\mathrm{in}$")
    return ax


def weight_histogram(ax, weights: dict, bins: int = 81):
    """Histograms of weight entries, each matrix divided by its root-mean-square entry so
    that matrices of different scale share one axis (log counts)."""
    for (label, w), color in zip(weights.items(), PALETTE, strict=False):
        values = _np(w).ravel()
        values = values / np.sqrt(np.mean(values**2))
        ax.hist(values, bins=bins, histtype="step", color=color, label=label, density=True)
    ax.set_yscale("log")
    ax.set_xlabel("weight / its matrix's RMS")
    ax.set_ylabel("density")
    return ax


def alignment_grid(axes, maps: Sequence, titles: Sequence[str], xlabels: Sequence[str], mark=None):
    """``alignment_map`` on each axis with one shared colour bar, fitted to the data."""
    vmax = upper_limit(maps)
    images = [
        alignment_map(ax, values, title, xlabel, mark=mark, vmax=vmax)
        for ax, values, title, xlabel in zip(axes, maps, titles, xlabels, strict=True)
    ]
    axes[0].figure.colorbar(images[-1], ax=list(axes), label="|cos|", shrink=0.6)
    return axes


def entry_scatters(axes, panels: Sequence[dict]):
    """``entry_scatter`` per axis; each panel is a dict of its arguments plus ``title``."""
    for ax, panel in zip(axes, panels, strict=True):
        entry_scatter(ax, panel["m"], panel["a"], panel["offdiag_line"], panel["diag_line"])
        ax.set_title(panel["title"], fontsize=9)
    return axes


# --------------------------------------------------------------------------- semi_nmf
def seed_band_panel(ax, x, curves: dict, title: str | None = None, **kwargs):
    """Per entry of ``curves`` (label -> ``(X, S)`` values over ``S`` seeds or matrices) a
    line through the mean over seeds with a band spanning them, in ``PALETTE`` order."""
    values = [_np(v) for v in curves.values()]
    lines_with_bands(
        ax,
        x,
        np.stack([v.mean(1) for v in values]),
        np.stack([v.min(1) for v in values]),
        np.stack([v.max(1) for v in values]),
        list(curves),
        **kwargs,
    )
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def grouped_bars(ax, groups: Sequence[str], series: dict, ylabel: str):
    """Bars for each group, one per series (label -> ``(values, errors)``, one value per
    group), with error bars; errors may be None."""
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    for i, (label, (values, errors)) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        yerr = None if errors is None else _np(errors)
        ax.bar(x + offset, _np(values), width, yerr=yerr, capsize=2, label=label, color=PALETTE[i])
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    return ax


def weight_maps(axes, matrices: dict, xlabel: str = "", ylabel: str = "", cmap: str = "RdBu_r"):
    """Each matrix (title -> ``(rows, cols)``) as an image divided by its largest magnitude,
    so that matrices of different scale share one diverging colour scale in [-1, 1]."""
    image = None
    for ax, (title, w) in zip(axes, matrices.items(), strict=True):
        w = _np(w)
        image = ax.imshow(w / np.abs(w).max(), aspect="auto", cmap=cmap, vmin=-1, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set(xlabel=xlabel, ylabel=ylabel)
        ax.grid(False)
    axes[0].figure.colorbar(image, ax=list(axes), label="weight / largest |weight|", shrink=0.7)
    return axes


def seed_band_grid(
    axes,
    x,
    panels: Sequence[tuple[str, dict]],
    reference: tuple[float, str] | None = None,
    ylim: tuple[float, float] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    **kwargs,
):
    """``seed_band_panel`` on each axis (``panels`` holds ``(title, curves)`` pairs), each
    with the same dashed ``reference`` line ``(value, label)``, limits and labels."""
    for ax, (title, curves) in zip(axes, panels, strict=True):
        seed_band_panel(ax, x, curves, title, **kwargs)
        if reference is not None:
            reference_line(ax, reference[0], label=reference[1])
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set(xlabel=xlabel, ylabel=ylabel)
    return axes


# --------------------------------------------------------------------------- uand_readout
# (owner: the uand_readout chapter; paper 004 sections 5.2 and 6.1)
CLASS_NAMES = ("A", "B1", "B2", "C")


def readout_chart(ax, x, y, r, title: str | None = None, scale: float | None = None):
    """Readout chart (paper 004 section 5.2): every neuron at its weights ``(x, y)`` on the
    pair's two inputs, coloured by its readout weight ``r`` for that pair on a diverging
    scale symmetric about 0 (``scale``: its end; default the largest ``|r|``). Returns the
    scatter (for a colour bar)."""
    r = _np(r)
    scale = scale or float(np.abs(r).max())
    order = np.argsort(np.abs(r))  # the strongest on top
    points = ax.scatter(
        _np(x)[order], _np(y)[order], c=r[order], cmap="RdBu_r", vmin=-scale, vmax=scale, s=14
    )
    ax.set(xlabel="weight from input $i$", ylabel="weight from input $j$")
    if title:
        ax.set_title(title, fontsize=9)
    return points


def readout_charts(axes, charts: Sequence, titles: Sequence[str]):
    """``readout_chart`` per axis (``charts``: objects with ``x, y, r``), each with its
    own colour bar labelled as the AND readout weight."""
    for ax, chart, title in zip(axes, charts, titles, strict=True):
        points = readout_chart(ax, chart.x, chart.y, chart.r, title)
        ax.figure.colorbar(points, ax=ax, label="readout weight for AND$(i, j)$", shrink=0.8)
    return axes


def class_prediction_scatter(ax, predicted, learned):
    """Per-class mean readout weight of every pair, learned against predicted
    (``(..., 4)`` arrays, classes A, B1, B2, C in ``PALETTE`` order), with the diagonal."""
    predicted, learned = _np(predicted).reshape(-1, 4), _np(learned).reshape(-1, 4)
    for index, name in enumerate(CLASS_NAMES):
        ax.scatter(predicted[:, index], learned[:, index], s=10, alpha=0.6, label=name)
    finite = np.isfinite(predicted) & np.isfinite(learned)
    lo = min(predicted[finite].min(), learned[finite].min())
    hi = max(predicted[finite].max(), learned[finite].max())
    ax.plot([lo, hi], [lo, hi], color=NAIVE_COLOR, ls="--", lw=1)
    ax.set(xlabel="predicted weight per neuron", ylabel="trained mean weight per neuron")
    ax.legend(title="class", fontsize=8)
    return ax


# --------------------------------------------------------------------------- end uand_readout


# --------------------------------------------------------------------------- uand_training
# (owner: the uand_training chapter; paper 004 sections 5 and 5.1, appendix B)
ADDITIVE_COLOR = "#7f7f7f"


def uand_loss_panels(
    axes, histories, d_values: Sequence[int], s_values: Sequence[int], reference=None
):
    """Training loss per ``d`` (one panel each) from ``histories (D, T, S, seeds)``: the
    seed mean of each ``s`` as one line, smoothed over 1% of the run, log scale;
    ``reference`` a dashed grey level (the additive readout's loss)."""
    histories = _np(histories)
    window = max(1, histories.shape[1] // 100)
    for ax, d, losses in zip(np.atleast_1d(axes), d_values, histories, strict=True):
        loss_curves(ax, losses.mean(axis=2), [f"s = {s}" for s in s_values], window=window)
        if reference is not None:
            reference_line(ax, reference, label="additive 1/18", color=ADDITIVE_COLOR)
        ax.set_yscale("log")
        ax.set_ylabel("case-balanced loss")
        ax.set_title(f"d = {d}", fontsize=9)
    first = np.atleast_1d(axes)[0]
    handles, labels = first.get_legend_handles_labels()
    first.figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 5))
    return axes


def against_d(
    ax,
    d_values: Sequence[int],
    mean,
    err,
    s_values: Sequence[int],
    ylabel: str,
    log_y: bool = False,
):
    """One line with error bars per ``s`` (columns of ``mean, err (D, S)``) against ``d``
    (log axis)."""
    mean, err = _np(mean), _np(err)
    for index, s in enumerate(s_values):
        errorbars(ax, d_values, mean[:, index], err[:, index], label=f"s = {s}", fmt="o-", ms=4)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set(xlabel="neurons $d$", ylabel=ylabel)
    return ax


def binary_values(ax, d_values: Sequence[int], neurons: Sequence[dict], spread: float = 0.35):
    """The two values ``u`` (blue) and ``w`` (vermilion) of each neuron and its bias ``b``
    (green) at every ``d`` (``neurons[i]``: arrays ``u, w, b, spread90`` of the neurons
    shown), spread sideways over a factor ``exp(+-spread)`` around ``d`` (log axis), ``u``
    and ``w`` with error bars of their 90th-percentile distance (appendix B's charts)."""
    for index, (d, values) in enumerate(zip(d_values, neurons, strict=True)):
        count = len(values["u"])
        x = d * np.exp(np.linspace(-spread, spread, count))
        first = index == 0
        for name, color, label in (("u", PALETTE[0], "$u_i$"), ("w", PALETTE[5], "$w_i$")):
            ax.errorbar(
                x,
                values[name],
                yerr=values["spread90"],
                fmt="o",
                ms=2.5,
                lw=0.6,
                color=color,
                alpha=0.7,
                label=label if first else None,
            )
        ax.plot(x, values["b"], "s", ms=2.5, color=PALETTE[2], label="$b_i$" if first else None)
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xscale("log")
    ax.set(xlabel="neurons $d$ (neurons spread sideways)", ylabel="value")
    return ax


def similarity_map(ax, values, d_values: Sequence[int], s_values: Sequence[int]):
    """Binary-similarity score ``values (D, S)`` as an annotated image (``d`` down, ``s``
    across, 0.5 to 1 on the colour scale). Returns the image (for a colour bar)."""
    values = _np(values)
    image = ax.imshow(values, cmap="viridis", vmin=0.5, vmax=1.0, aspect="auto")
    for (row, column), value in np.ndenumerate(values):
        ax.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=8, color="w")
    ax.set_xticks(range(len(s_values)), [str(s) for s in s_values])
    ax.set_yticks(range(len(d_values)), [str(d) for d in d_values])
    ax.set(xlabel="active inputs $s$", ylabel="neurons $d$")
    ax.grid(False)
    return image


# --------------------------------------------------------------------------- end uand_training
# --------------------------------------------------------------------------- uand_variance
# (owner: the uand_variance chapter; paper 004 section 6.2)


def predicted_vs_simulated(ax, series: dict, xlabel: str, ylabel: str):
    """Log-log scatter of simulated against predicted values, one colour per entry of
    ``series`` (``label -> (predicted, simulated, stderr[, marker])``, flat arrays), with
    the diagonal."""
    low, high = np.inf, 0.0
    for index, (label, values) in enumerate(series.items()):
        predicted, simulated, stderr = (_np(v).ravel() for v in values[:3])
        marker = values[3] if len(values) > 3 else "o"
        keep = (predicted > 0) & (simulated > 0)
        face = "none" if marker == "s" else PALETTE[index]
        ax.errorbar(
            predicted[keep],
            simulated[keep],
            yerr=stderr[keep],
            fmt=marker,
            ms=4,
            lw=0.6,
            color=PALETTE[index],
            mfc=face,
            label=label,
        )
        low = min(low, predicted[keep].min(), simulated[keep].min())
        high = max(high, predicted[keep].max(), simulated[keep].max())
    ax.plot([low, high], [low, high], color=NAIVE_COLOR, ls="--", lw=1, label="equal")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8)
    return ax


def plain_log_ticks(axis, values) -> None:
    """Ticks of a log ``axis`` (``ax.xaxis``/``ax.yaxis``) at ``values``, written plainly."""
    axis.set_major_locator(matplotlib.ticker.FixedLocator(list(values)))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def scaling_lines(ax, x, predicted: dict, simulated: dict, xlabel: str, ylabel: str):
    """Lines of ``predicted`` (``label -> values``) and points with error bars of
    ``simulated`` (``label -> (mean, stderr)``) against ``x`` on log-log axes; a label
    present in both shares its colour (and its legend says which is derived, which
    simulated). ``x`` gets plain ticks when it has at most 12 values."""
    labels = list(dict.fromkeys([*predicted, *simulated]))
    for index, label in enumerate(labels):
        color = PALETTE[index % len(PALETTE)]
        if label in predicted:
            ax.plot(_np(x), _np(predicted[label]), color=color, lw=1.2, label=f"{label}, derived")
        if label in simulated:
            mean, err = simulated[label]
            name = f"{label}, simulated" if label in predicted else label
            ax.errorbar(
                _np(x), _np(mean), yerr=_np(err), fmt="o", ms=4, color=color, label=name
            )  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel)
    if len(x) <= 12:
        plain_log_ticks(ax.xaxis, _np(x))
    ax.legend(fontsize=7)
    return ax


def win_region(ax, d_grid, s_grid, log_ratio, lines: dict, points=None):
    """Where the dense circuit wins: ``log_ratio (D, S)`` (log10 of dense over CiS variance,
    derived) as a diverging image over ``d`` (x, log) and ``s`` (y, log), its zero contour
    in black, extra ``lines`` (``label -> s of each d``) and simulated ``points``
    (``(d, s, dense_wins)`` arrays: filled = dense wins, open = CiS wins)."""
    d_grid, s_grid, values = _np(d_grid), _np(s_grid), _np(log_ratio)
    scale = float(np.nanmax(np.abs(values)))
    mesh = ax.pcolormesh(
        d_grid, s_grid, values.T, cmap="RdBu_r", vmin=-scale, vmax=scale, shading="nearest"
    )
    ax.contour(d_grid, s_grid, values.T, levels=[0.0], colors="k", linewidths=1.2)
    for index, (label, s_line) in enumerate(lines.items()):
        ax.plot(d_grid, _np(s_line), color=PALETTE[(index + 1) % 8], lw=1.4, ls="--", label=label)
    if points is not None:
        d_points, s_points, wins = (np.asarray(v) for v in points)
        ax.scatter(d_points[wins], s_points[wins], c="k", s=14, label="simulated: dense wins")
        ax.scatter(
            d_points[~wins], s_points[~wins], facecolors="none", edgecolors="k", s=14,
            label="simulated: CiS wins",
        )  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="neurons $d$", ylabel="active inputs $s$")
    ax.set_ylim(s_grid.min(), s_grid.max())
    plain_log_ticks(
        ax.yaxis, [s for s in (2, 3, 4, 6, 10, 16, 24, 40, 64, 100) if s <= s_grid.max()]
    )
    ax.grid(False)
    ax.figure.legend(loc="outside lower center", ncol=2, fontsize=8)
    ax.figure.colorbar(mesh, ax=ax, label="log$_{10}$ (dense / CiS variance)", shrink=0.85)
    return ax


# --------------------------------------------------------------------------- end uand_variance
