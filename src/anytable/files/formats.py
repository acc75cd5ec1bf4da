"""Reading and writing CSV, JSONL and XLSX tables: blocking file work, run in a worker thread.

CSV is UTF-8 with a BOM on export (Excel then reads Chinese text right), BOM or not on import.
XLSX needs the optional extra ``anytable-mcp[xlsx]`` (openpyxl, write-only and read-only modes,
so memory stays flat both ways).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from anytable.errors import InputError
from anytable.files.newfile import link_new

Format = Literal["csv", "jsonl", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "xlsx")
SUFFIXES: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
XLSX_EXTRA = "XLSX needs openpyxl: install the extra with pip install 'anytable-mcp[xlsx]'."
MAX_CELL = 16 * 1024 * 1024
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def pick_format(fmt: Any, path: Path) -> Format:
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}.")
        return fmt  # type: ignore[no-any-return]
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise InputError(
            f"Cannot tell the format of {path.name!r} from its suffix: name it .csv, .jsonl or .xlsx, "
            "or pass format."
        )
    return found


def require_xlsx() -> Any:
    try:
        import openpyxl  # type: ignore[import-untyped]
    except ImportError:
        raise InputError(XLSX_EXTRA) from None
    return openpyxl


# ------------------------------------------------------------------------------------ writing
class TableWriter(Protocol):
    def write(self, rows: list[list[Any]]) -> None: ...
    def close(self) -> None: ...  # finish the file (on success)
    def discard(self) -> None: ...  # release everything (on failure or after close)


class _TextWriter:
    """A text file written row by row (CSV, JSONL)."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.file = path.open("x", encoding=encoding, newline="")

    def close(self) -> None:
        self.file.close()

    def discard(self) -> None:
        self.file.close()


class _CsvWriter(_TextWriter):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, "utf-8-sig")
        self.out = csv.writer(self.file)
        self.out.writerow(columns)

    def write(self, rows: list[list[Any]]) -> None:
        self.out.writerows(rows)


class _JsonlWriter(_TextWriter):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, "utf-8")
        self.columns = columns
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def write(self, rows: list[list[Any]]) -> None:
        cols = self.columns
        self.file.write(
            "".join(
                self.encode({c: v for c, v in zip(cols, row, strict=True) if v is not None}) + "\n"
                for row in rows
            )
        )


class _XlsxWriter:
    def __init__(self, path: Path, columns: list[str]) -> None:
        openpyxl = require_xlsx()
        self.path = path
        self.book = openpyxl.Workbook(write_only=True)
        self.cell = openpyxl.cell.WriteOnlyCell
        self.sheet = self.book.create_sheet("records")
        self.sheet.append(columns)

    def write(self, rows: list[list[Any]]) -> None:
        for row in rows:
            self.sheet.append([self._cell(v) for v in row])

    def _cell(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = _ILLEGAL_XML.sub("", value)
        if not value.startswith("="):
            return value
        # openpyxl takes a string starting with "=" for a formula: Excel would run it, and reading the
        # file back (cached values only) would lose the text. Keep it a string cell.
        cell = self.cell(self.sheet, value=value)
        cell.data_type = "s"
        return cell

    def close(self) -> None:
        self.book.save(self.path)

    def discard(self) -> None:
        self.book.close()


def open_writer(fmt: Format, path: Path, columns: list[str]) -> TableWriter:
    if fmt == "csv":
        return _CsvWriter(path, columns)
    if fmt == "jsonl":
        return _JsonlWriter(path, columns)
    return _XlsxWriter(path, columns)


def place(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move a finished file into place; without ``overwrite`` never replace an existing file."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        link_new(tmp, target)  # fails if target exists, atomically
    except FileExistsError:
        raise InputError(
            f"{target} appeared while exporting; pass overwrite: true to replace it, or another path."
        ) from None
    tmp.unlink()


# ------------------------------------------------------------------------------------ reading
@dataclass
class Parsed:
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (line or row number in the file, {column: cell})
    errors: list[tuple[int, str]] = field(default_factory=list)  # rows that could not be read at all


def read_table(path: Path, fmt: Format, max_rows: int) -> Parsed:
    if fmt == "csv":
        parsed = _read_csv(path, max_rows)
    elif fmt == "jsonl":
        parsed = _read_jsonl(path, max_rows)
    else:
        parsed = _read_xlsx(path, max_rows)
    if not parsed.rows and not parsed.errors:
        raise InputError(f"{path.name} has a header but no rows: nothing to import.")
    return parsed


def _too_many(path: Path, max_rows: int) -> InputError:
    return InputError(
        f"{path.name} has more than {max_rows:,} rows: split it into files of at most {max_rows:,} rows and "
        "import them one by one. Nothing was written."
    )


def _check_header(path: Path, header: list[Any]) -> list[str]:
    columns = ["" if c is None else str(c).strip() for c in header]
    while columns and columns[-1] == "":
        columns.pop()
    if not columns:
        raise InputError(f"{path.name}: the first row must name the columns (field names); it is empty.")
    for i, name in enumerate(columns):
        if not name:
            raise InputError(f"{path.name}: column {i + 1} of the header has no name; name every column.")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{path.name}: columns {dupes} appear twice in the header; name each column once.")
    return columns


def _read_csv(path: Path, max_rows: int) -> Parsed:
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path.name} is empty: the first line must name the columns.")
    if b"\x00" in data[:65536]:
        raise InputError(f"{path.name} is not a CSV text file (it has binary content). Save it as CSV UTF-8.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path.name}, line {line}: not UTF-8 text (mixed or other encoding). Save the file as CSV UTF-8 "
            "and import again."
        ) from None
    del data
    csv.field_size_limit(
        max(csv.field_size_limit(), MAX_CELL)
    )  # a long cell is the row's error, not the file's
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        columns = _check_header(path, header)
        if len(columns) == 1 and any(sep in columns[0] for sep in ";\t"):
            raise InputError(
                f"{path.name}: the header is one column {columns[0][:60]!r}: the file seems to separate columns with "
                "';' or tabs. Save it as CSV with commas (CSV UTF-8 in Excel)."
            )
        width = len(columns)
        rows: list[tuple[int, dict[str, Any]]] = []
        errors: list[tuple[int, str]] = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                errors.append((line, f"{len(cells)} cells but the header names {width} columns"))
                continue
            rows.append((line, dict(zip(columns, cells, strict=False))))
            if len(rows) > max_rows:
                raise _too_many(path, max_rows)
    except csv.Error as exc:
        raise InputError(f"{path.name}, line {reader.line_num}: not valid CSV ({exc}).") from None
    return Parsed(columns, rows, errors)


def _read_jsonl(path: Path, max_rows: int) -> Parsed:
    columns: dict[str, None] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[tuple[int, str]] = []
    try:
        with path.open(encoding="utf-8-sig") as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    if not rows and not errors and line_no == 1:
                        raise InputError(f"{path.name} is not JSONL: line 1 is not a JSON object.") from None
                    errors.append((line_no, "not a JSON object"))
                    continue
                if not isinstance(obj, dict):
                    errors.append((line_no, 'not a JSON object (one record per line, like {"Name": "x"})'))
                    continue
                for key in obj:
                    columns.setdefault(key, None)
                rows.append((line_no, obj))
                if len(rows) > max_rows:
                    raise _too_many(path, max_rows)
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not UTF-8 text: save it as UTF-8 and import again.") from None
    if not rows and not errors:
        raise InputError(f"{path.name} is empty: write one JSON object per line.")
    return Parsed(list(columns), rows, errors)


def _read_xlsx(path: Path, max_rows: int) -> Parsed:
    openpyxl = require_xlsx()
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path.name} is not an Excel .xlsx workbook ({type(exc).__name__}).") from None
    except Exception as exc:  # openpyxl's InvalidFileException and friends
        raise InputError(f"{path.name} is not an Excel .xlsx workbook ({exc}).") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise InputError(f"{path.name} has no worksheet.")
        it = sheet.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            raise InputError(f"{path.name} is empty: the first row must name the columns.")
        columns = _check_header(path, list(header))
        width = len(columns)
        rows: list[tuple[int, dict[str, Any]]] = []
        errors: list[tuple[int, str]] = []
        for number, cells in enumerate(it, 2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(cells) > width and any(c is not None for c in cells[width:]):
                errors.append((number, f"cells beyond the {width} named columns"))
                continue
            rows.append((number, dict(zip(columns, cells, strict=False))))
            if len(rows) > max_rows:
                raise _too_many(path, max_rows)
    finally:
        book.close()
    return Parsed(columns, rows, errors)
