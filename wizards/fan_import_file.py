"""Reading a fan list: an Excel workbook (.xlsx) or a CSV file, as a header row and
data rows of plain Python values.

Excel is read with openpyxl, the library Odoo's own import (base_import) reads
.xlsx with and which Odoo's requirements pin: no new dependency. CSV files from
Chinese back ends come in UTF-8, UTF-8 with a BOM (what Excel writes) or GB18030
(GBK's superset, what Excel on a Chinese Windows writes): tried in that order.
"""
import csv
import datetime
import io
import zipfile

from odoo.exceptions import UserError
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_table(env, content, filename="", header_only=False):
    """(headers, rows): the first non-empty row as stripped header strings, then
    every following row that has a value, as (row number in the file, list of cell
    values: str, int, float, datetime or None)."""
    if not content:
        raise UserError(env._("Upload a file first."))
    if content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx"):
        rows = _xlsx_rows(env, content)
    else:
        rows = _csv_rows(env, content)
    headers = None
    data = []
    for number, row in enumerate(rows, start=1):
        if not any(cell not in (None, "") for cell in row):
            continue
        if headers is None:
            headers = [str(cell).strip() if cell is not None else "" for cell in row]
            if header_only:
                break
            continue
        data.append((number, list(row)))
    if not headers:
        raise UserError(env._("The file has no header row."))
    return headers, data


def _xlsx_rows(env, content):
    from openpyxl import load_workbook  # noqa: PLC0415 (Odoo's own requirement, as in base_import)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UserError(env._("This is not an Excel workbook (.xlsx) that can be read: %s", exc)) from exc
    try:
        # read_only mode streams the sheet: a 100,000-row workbook is not held as cells.
        yield from book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()


def _csv_rows(env, content):
    for encoding in CSV_ENCODINGS:
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UserError(env._("The CSV file is neither UTF-8 nor GB18030 text."))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def cell_text(value):
    """A cell as text: Excel keeps ids and phone numbers typed as numbers as floats
    (13800138000.0), which must read as the digits they were."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()
