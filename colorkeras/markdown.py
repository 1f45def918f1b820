"""One writer for the Markdown tables of reports, summaries and model cards.

Cells are given as they should read; the writer only lays them out, so every
table in the package has the same header, rule and escaping.
"""

NUMERIC = "---:"
TEXT = "---"


def escape(cell):
    """A cell's text with the characters that would break the row escaped."""
    return str(cell).replace("|", "\\|").replace("\n", " ")


def table(header, rows, align=None):
    """A Markdown table as a string (no trailing newline).

    Args:
        header: the column titles.
        rows: iterables of cells, one per column; each is shown with ``str``.
        align: per column, "left" or "right" (numbers); default all left.

    Examples:
    ```python
    table(["model", "PSNR"], [["unet", "23.1"]], align=["left", "right"])
    # '| model | PSNR |\\n|---|---:|\\n| unet | 23.1 |'
    ```
    """
    header = list(header)
    align = list(align or ["left"] * len(header))
    if len(align) != len(header) or not set(align) <= {"left", "right"}:
        raise ValueError(f"`align` needs 'left' or 'right' per column. Received: {align}")
    rule = "|" + "|".join(NUMERIC if a == "right" else TEXT for a in align) + "|"
    lines = [_row(header), rule]
    for row in rows:
        cells = list(row)
        if len(cells) != len(header):
            raise ValueError(f"A row has {len(cells)} cells for {len(header)} columns: {cells}")
        lines.append(_row(escape(c) for c in cells))
    return "\n".join(lines)


def _row(cells):
    return "| " + " | ".join(cells) + " |"
