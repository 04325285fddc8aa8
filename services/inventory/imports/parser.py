"""Spreadsheets to rows of text cells: CSV (sniffed dialect, UTF-8 with or without BOM) and XLSX
(first sheet, header row first). Pure functions: no database, no HTTP.

Every cell comes out as text so that one validator serves both formats; XLSX numbers, dates and
booleans are written the way a person would type them into a CSV.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from shared.errors import BadRequest

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")


class UnreadableFile(BadRequest):
    code, title = "unreadable-file", "The file cannot be read"


@dataclass
class Sheet:
    """The header row and the data rows of a spreadsheet; ``numbers`` are 1-based row numbers
    as a spreadsheet shows them (the header is row 1), blank rows skipped."""

    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)


def _build(lines: Iterable[list[str]], max_rows: int | None) -> Sheet:
    iterator = iter(lines)
    header_number = 0
    for header_number, first in enumerate(iterator, start=1):  # noqa: B007 — used below
        if any(cell.strip() for cell in first):
            sheet = Sheet(headers=[cell.strip() for cell in first])
            break
    else:
        raise UnreadableFile("The file has no header row.")
    for number, row in enumerate(iterator, start=header_number + 1):
        if not any(cell.strip() for cell in row):
            continue
        sheet.rows.append(row)
        sheet.numbers.append(number)
        if max_rows is not None and len(sheet.rows) > max_rows:
            break  # the caller refuses the file; no need to read the rest
    return sheet


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header row: the candidate it holds most of, outside quotes.

    The header alone decides, because data cells (JSON, free text) hold commas and semicolons
    that mislead :class:`csv.Sniffer`; header names do not.
    """
    header = text.lstrip("\r\n")[:SNIFF_BYTES]
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the earlier, so ',' by default
    return best if counts[best] else ","


def parse_csv(data: bytes, *, max_rows: int | None = None) -> Sheet:
    """Rows of a CSV file: UTF-8 (a BOM is dropped), delimiter sniffed among ``, ; tab |``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"The CSV file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8'."
        ) from exc
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        return _build(reader, max_rows)
    except csv.Error as exc:
        raise UnreadableFile(f"The CSV file is malformed: {exc}") from exc


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_xlsx(data: bytes, *, max_rows: int | None = None) -> Sheet:
    """Rows of the first sheet of an XLSX workbook (read-only mode: memory stays flat)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile("The file is not a readable XLSX workbook.") from exc
    except Exception as exc:  # openpyxl raises many kinds on hostile input; none is ours
        raise UnreadableFile("The file is not a readable XLSX workbook.") from exc
    try:
        worksheet = workbook.worksheets[0] if workbook.worksheets else None
        if worksheet is None:
            raise UnreadableFile("The workbook has no sheet.")
        lines = ([_cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True))
        return _build(lines, max_rows)
    except UnreadableFile:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while rows are read
        raise UnreadableFile("The workbook's first sheet cannot be read.") from exc
    finally:
        workbook.close()


def parse(data: bytes, media_type: str, *, max_rows: int | None = None) -> Sheet:
    """Parse by media type: ``text/csv`` or the XLSX type."""
    if media_type == XLSX_MEDIA_TYPE:
        return parse_xlsx(data, max_rows=max_rows)
    return parse_csv(data, max_rows=max_rows)
