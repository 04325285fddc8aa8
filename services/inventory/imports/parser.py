"""Spreadsheets to rows of text cells: CSV (sniffed dialect, UTF-8 with or without BOM, or
UTF-16 with its BOM) and XLSX (first sheet, header row first). Pure functions: no database, no
HTTP.

Every cell comes out as text so that one validator serves both formats; XLSX numbers, dates and
booleans are written the way a person would type them into a CSV.

An XLSX file is a zip of XML parts, and a small one can describe an enormous sheet: a declared
dimension of ``A1:XFD20000`` makes a reader pad 327 million empty cells, a shared-strings part
that compresses a thousandfold unpacks to gigabytes. :func:`inspect_xlsx` therefore reads only the
zip's directory and streams the parts' XML through a tag scanner — never a parser — and refuses
the file (413 ``spreadsheet-too-large``, naming the limit) before openpyxl sees it when the
uncompressed size, the compression ratio, the number of parts, the declared dimension or the
cells' actual extent pass :class:`XlsxLimits`. The parse that follows is bounded by the extent
the scan measured, whatever the file declares.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from shared.errors import BadRequest, PayloadTooLarge

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")


class UnreadableFile(BadRequest):
    code, title = "unreadable-file", "The file cannot be read"


class SpreadsheetTooLarge(PayloadTooLarge):
    """A spreadsheet past one of :class:`XlsxLimits`; ``limit`` names the setting."""

    code, title = "spreadsheet-too-large", "The spreadsheet is too large to import"


@dataclass(frozen=True)
class XlsxLimits:
    """What an XLSX file may unpack to; each is a setting ``AIMS_IMPORT_<NAME>`` of the
    inventory (see ``InventorySettings``). The defaults admit a 50,000-row register export."""

    max_uncompressed_bytes: int = 256 * 1024 * 1024
    # Uncompressed / compressed size of the whole file, checked once it unpacks past 1 MiB
    # (XML compresses 5 to 20 times; zip bombs a thousand times).
    max_compression_ratio: float = 100.0
    max_parts: int = 1000
    max_columns: int = 1000
    max_rows: int = 100_000
    # Rows x columns of the sheet's extent (declared or actual): what a reader walks.
    max_cells: int = 5_000_000


@dataclass(frozen=True)
class XlsxExtent:
    """The sheet area a parse may walk: the larger of the declared and the actual extent."""

    rows: int
    columns: int
    cells: int


def _too_large(message: str, limit: str, value: float, found: float) -> SpreadsheetTooLarge:
    return SpreadsheetTooLarge(
        f"{message} (limit {value:,}; this file: {found:,}); setting AIMS_IMPORT_{limit.upper()}.",
        limit=limit,
        limit_value=value,
        found=found,
    )


_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"
_TAG = re.compile(_PREFIX + rb"(c|row|dimension)(?=[\s/>])([^>]*)>")
_CELL_REF = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{1,4})([0-9]{1,9})["\']')
_ROW_REF = re.compile(rb'\sr\s*=\s*["\']([0-9]{1,12})["\']')
_DIMENSION = re.compile(
    rb'\sref\s*=\s*["\']\$?([A-Za-z]{1,4})\$?([0-9]{1,9})(?::\$?([A-Za-z]{1,4})\$?([0-9]{1,9}))?'
)
_SCAN_CHUNK = 1024 * 1024
_MAX_TAG = 64 * 1024


def column_number(letters: bytes) -> int:
    """``A`` → 1, ``XFD`` → 16384."""
    number = 0
    for char in letters.upper():
        number = number * 26 + (char - 64)
    return number


@dataclass
class _PartScan:
    cells: int = 0
    rows: int = 0  # <row> tags: the extent of rows without an ``r`` reference
    in_row: int = 0
    widest_row: int = 0  # the most cells in one row: the extent of cells without ``r``
    max_row: int = 0
    max_column: int = 0
    declared_rows: int = 0
    declared_columns: int = 0

    def tag(self, name: bytes, attributes: bytes) -> None:
        if name == b"c":
            self.cells += 1
            self.in_row += 1
            self.widest_row = max(self.widest_row, self.in_row)
            if ref := _CELL_REF.search(attributes):
                self.max_column = max(self.max_column, column_number(ref.group(1)))
                self.max_row = max(self.max_row, int(ref.group(2)))
        elif name == b"row":
            self.rows += 1
            self.in_row = 0
            if ref := _ROW_REF.search(attributes):
                self.max_row = max(self.max_row, int(ref.group(1)))
        elif (dim := _DIMENSION.search(attributes)) is not None:
            last_column, last_row = dim.group(3) or dim.group(1), dim.group(4) or dim.group(2)
            self.declared_columns = max(self.declared_columns, column_number(last_column))
            self.declared_rows = max(self.declared_rows, int(last_row))


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _PartScan:
    """Count the cells and measure the extent of one part by its tags, streaming: memory stays
    at one chunk, and a tag cut by a chunk boundary is completed from the next chunk."""
    scan = _PartScan()
    tail = b""
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_SCAN_CHUNK)
            buffer = tail + chunk
            if chunk:
                cut = buffer.rfind(b"<")
                if cut < 0 or len(buffer) - cut > _MAX_TAG:
                    cut = len(buffer)
            else:
                cut = len(buffer)
            for match in _TAG.finditer(buffer, 0, cut):
                scan.tag(match.group(1), match.group(2))
            tail = buffer[cut:]
            if not chunk:
                return scan


def inspect_xlsx(data: bytes, limits: XlsxLimits | None = None) -> XlsxExtent:
    """Refuse a workbook that would unpack or expand past ``limits``, without parsing it;
    returns the extent its parse may walk."""
    limits = limits or XlsxLimits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableFile("The file is not a readable XLSX workbook (not a zip).") from exc
    with archive:
        parts = archive.infolist()
        if len(parts) > limits.max_parts:
            raise _too_large(
                "The workbook has too many parts", "max_parts", limits.max_parts, len(parts)
            )
        unpacked = sum(info.file_size for info in parts)
        if unpacked > limits.max_uncompressed_bytes:
            raise _too_large(
                "The workbook unpacks to too many bytes",
                "max_uncompressed_bytes",
                limits.max_uncompressed_bytes,
                unpacked,
            )
        packed = max(sum(info.compress_size for info in parts), 1)
        ratio = round(unpacked / packed, 1)
        if unpacked > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise _too_large(
                "The workbook is compressed suspiciously well (a zip bomb?)",
                "max_compression_ratio",
                limits.max_compression_ratio,
                ratio,
            )
        total = _PartScan()
        try:
            for info in parts:
                if info.is_dir():
                    continue
                part = _scan_part(archive, info)
                total.cells += part.cells
                total.max_row = max(total.max_row, part.rows)
                total.max_column = max(total.max_column, part.widest_row)
                total.max_row = max(total.max_row, part.max_row)
                total.max_column = max(total.max_column, part.max_column)
                total.declared_rows = max(total.declared_rows, part.declared_rows)
                total.declared_columns = max(total.declared_columns, part.declared_columns)
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise UnreadableFile("The file is not a readable XLSX workbook.") from exc
    rows = max(total.max_row, total.declared_rows)
    columns = max(total.max_column, total.declared_columns)
    if columns > limits.max_columns:
        raise _too_large(
            "The sheet spans too many columns", "max_columns", limits.max_columns, columns
        )
    if rows > limits.max_rows:
        raise _too_large("The sheet spans too many rows", "max_rows", limits.max_rows, rows)
    area = max(rows * columns, total.cells)
    if area > limits.max_cells:
        raise _too_large("The sheet spans too many cells", "max_cells", limits.max_cells, area)
    return XlsxExtent(rows=rows, columns=columns, cells=total.cells)


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


def decode_csv(data: bytes) -> str:
    """The text of a CSV file: UTF-16 when it starts with a UTF-16 byte order mark (Excel's
    "Unicode text"), else UTF-8 (a BOM is dropped); anything else is refused, never guessed."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"The CSV file starts as UTF-16 but is not (byte {exc.start}); "
                "save it as 'CSV UTF-8'."
            ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"The CSV file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8'."
        ) from exc


def parse_csv(data: bytes, *, max_rows: int | None = None) -> Sheet:
    """Rows of a CSV file (see :func:`decode_csv`), delimiter sniffed among ``, ; tab |``.

    Quoting is read strictly: a quote left open swallows every following line into one cell
    (two rows would silently become one system named ``Broken,x\nNext,y``), and text after a
    closing quote would be glued on; both refuse the file naming the row and line."""
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    return _build(_csv_rows(reader), max_rows)


def _csv_rows(reader: Any) -> Iterator[list[str]]:
    """The reader's records; a malformed one raises :class:`UnreadableFile` naming it."""
    record = 0
    while True:
        starts = reader.line_num + 1
        try:
            row: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise UnreadableFile(
                    f"The CSV file ends inside a quoted cell: the quote opened in row "
                    f"{record + 1} (line {starts}) is never closed; close it or double the "
                    'quotes inside the cell ("").'
                ) from exc
            raise UnreadableFile(
                f"The CSV file is malformed in row {record + 1} (line {reader.line_num}): "
                f"{exc}. Quote a cell that holds the delimiter, a quote or a line break, and "
                'double the quotes inside it ("").'
            ) from exc
        record += 1
        yield row


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


def parse_xlsx(
    data: bytes, *, max_rows: int | None = None, limits: XlsxLimits | None = None
) -> Sheet:
    """Rows of the first sheet of an XLSX workbook (read-only mode: memory stays flat), once
    :func:`inspect_xlsx` has admitted it; the parse walks no more than the extent it measured."""
    extent = inspect_xlsx(data, limits)
    import openpyxl  # loaded on first use: most imports are CSV

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
        rows = worksheet.iter_rows(
            max_row=max(extent.rows, 1), max_col=max(extent.columns, 1), values_only=True
        )
        lines = ([_cell_text(v) for v in row] for row in rows)
        return _build(lines, max_rows)
    except UnreadableFile:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while rows are read
        raise UnreadableFile("The workbook's first sheet cannot be read.") from exc
    finally:
        workbook.close()


def parse(
    data: bytes,
    media_type: str,
    *,
    max_rows: int | None = None,
    limits: XlsxLimits | None = None,
) -> Sheet:
    """Parse by media type: ``text/csv`` or the XLSX type."""
    if media_type == XLSX_MEDIA_TYPE:
        return parse_xlsx(data, max_rows=max_rows, limits=limits)
    return parse_csv(data, max_rows=max_rows)
