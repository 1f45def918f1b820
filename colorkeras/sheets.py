"""Comparison sheets: one row per photo, one column per colorizer.

Tables of means hide what a colorizer does to a picture; a sheet shows it.
Columns are the gray input, each model, and the ground truth, each titled
with that image's PSNR and ΔE2000 so the numbers can be checked by eye.
Drawn with matplotlib's object API (no pyplot), so no display is needed.
"""

import math

import numpy as np

from colorkeras.errors import InputError

ROWS_PER_SHEET = 6
_CELL_INCHES = 2.2


def _title(label, scores):
    if scores is None:
        return label
    return f"{label}\nPSNR {scores['psnr']:.1f} dB, ΔE {scores['ciede2000']:.1f}"


def draw_sheet(rows, path, dpi=100):
    """Draw one sheet to ``path`` (PNG).

    Args:
        rows: list of ``(image_name, cells)``; ``cells`` is a list of
            ``(label, rgb, scores)`` with ``rgb`` an ``[H, W, 3]`` array in
            [0, 1] (or ``[H, W, 1]`` gray) and ``scores`` a dict holding
            ``psnr`` and ``ciede2000``, or None (the ground truth).
        path: output file.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = max(len(cells) for _, cells in rows)
    figure = Figure(figsize=(columns * _CELL_INCHES, len(rows) * (_CELL_INCHES + 0.35)))
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for axes_row, (name, cells) in zip(axes, rows):
        for ax, (label, rgb, scores) in zip(axes_row, cells):
            rgb = np.clip(np.asarray(rgb, np.float32), 0.0, 1.0)
            if rgb.shape[-1] == 1:
                ax.imshow(rgb[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
            else:
                ax.imshow(rgb)
            ax.set_title(_title(label, scores), fontsize=8)
        axes_row[0].set_ylabel(name, fontsize=7)
        for ax in axes_row:
            ax.set_xticks([])
            ax.set_yticks([])
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)


def write_sheets(rows, out_dir, rows_per_sheet=ROWS_PER_SHEET):
    """Split ``rows`` (see `draw_sheet`) over ``sheet_001.png``, ``sheet_002.png``...

    Returns:
        The paths written.
    """
    import os

    if rows_per_sheet < 1:
        raise InputError(
            f"`rows_per_sheet` must be >= 1. Received: rows_per_sheet={rows_per_sheet}"
        )
    paths = []
    for index in range(math.ceil(len(rows) / rows_per_sheet)):
        path = os.path.join(out_dir, f"sheet_{index + 1:03d}.png")
        draw_sheet(rows[index * rows_per_sheet:(index + 1) * rows_per_sheet], path)
        paths.append(path)
    return paths
