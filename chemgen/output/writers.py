"""Writing ranked candidates: terminal table, CSV, JSON Lines, SDF, a PNG/SVG grid image and an HTML page.

CSV and JSON Lines carry the same fields (:func:`field_names`): rank, name,
logp, logp_per_char, in_training, passed, smiles, inchikey, reasons, then the
RDKit properties in :data:`chemgen.chem.PROPERTY_NAMES` order, then any other
annotations (known_name, cid, ...) sorted by name. Every writer given a path
writes atomically (temporary file, then rename).
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
import textwrap
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Union

import numpy as np

from chemgen.chem import molecules as chem
from chemgen.errors import ConfigError
from chemgen.io.atomic import atomic_open, atomic_text
from chemgen.io.names import printable, quoted

if TYPE_CHECKING:
    from chemgen.filters import Candidate

BASE_FIELDS = ("rank", "name", "logp", "logp_per_char", "in_training", "passed", "smiles", "inchikey", "reasons")
REASON_SEPARATOR = " | "  # joins reasons in CSV and in the table
Target = Union[str, os.PathLike, IO[str]]


# ---------------------------------------------------------------- files


@contextlib.contextmanager
def _text_target(target: Target) -> Iterator[IO[str]]:
    if hasattr(target, "write"):
        yield target  # type: ignore[misc]
    else:
        with atomic_text(target) as handle:
            yield handle


# ---------------------------------------------------------------- records


def field_names(cands: list[Candidate]) -> list[str]:
    """The shared CSV/JSONL columns: base fields, RDKit properties, then other annotations."""
    return _fields({key for c in cands for key in c.properties})


def _fields(keys: set[str]) -> list[str]:
    return list(BASE_FIELDS) + list(chem.PROPERTY_NAMES) + sorted(keys - set(BASE_FIELDS) - set(chem.PROPERTY_NAMES))


def to_record(cand: Candidate, rank: int) -> dict[str, Any]:
    """One candidate as plain values (NaN becomes None); ``reasons`` is a list."""
    record: dict[str, Any] = {
        "rank": rank,
        "name": cand.name,
        "logp": cand.logp,
        "logp_per_char": cand.logp_per_char,
        "in_training": cand.in_training,
        "passed": cand.passed,
        "smiles": cand.smiles,
        "inchikey": cand.inchikey,
        "reasons": cand.reasons,
    }
    for key, value in cand.properties.items():
        record.setdefault(key, value)
    return {key: _plain(value) for key, value in record.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return REASON_SEPARATOR.join(map(str, value))
    return str(value)


# ---------------------------------------------------------------- text formats


def write_csv(cands: list[Candidate], target: Target) -> int:
    """CSV with a header row of :func:`field_names`; returns the number of rows."""
    return write_stream([cands], target, "csv")


def write_jsonl(cands: list[Candidate], target: Target) -> int:
    """One JSON object per line, keys in :func:`field_names` order; returns the number of lines."""
    return write_stream([cands], target, "jsonl")


def write_names(cands: list[Candidate], target: Target) -> int:
    """Just the names, one a line, in rank order; returns the number of lines."""
    with _text_target(target) as out:
        for cand in cands:
            out.write(cand.name + "\n")
    return len(cands)


TABLE_COLUMNS = (  # header, width limit (None = no limit; NAME_WIDTH: the terminal's room), right-aligned
    ("rank", None, True),
    ("name", "NAME_WIDTH", False),
    ("logp", None, True),
    ("logp/char", None, True),
    ("passed", None, False),
    ("smiles", 36, False),
    ("reasons", 60, False),
)
MIN_NAME_WIDTH = 40  # names get at least this much on a narrow terminal


def write_table(cands: list[Candidate], target: Target) -> int:
    """An aligned plain-text table; long cells end in '…'. Names take the terminal's width left by the other
    columns (at least MIN_NAME_WIDTH), and are never cut off a terminal. Returns the row count."""
    cells = [_table_row(c, r) for r, c in enumerate(cands, 1)]
    limits = [limit for _, limit, _ in TABLE_COLUMNS]
    others = [[_truncate(cell, limit) if limit != "NAME_WIDTH" else "" for cell, limit in zip(row, limits)]
              for row in cells]
    name_limit = _name_width(target, [max([len(h)] + [len(row[i]) for row in others])
                                      for i, (h, limit, _) in enumerate(TABLE_COLUMNS) if limit != "NAME_WIDTH"])
    rows = [[_truncate(cell, name_limit if limit == "NAME_WIDTH" else limit) for cell, limit in zip(row, limits)]
            for row in cells]
    headers = [header for header, _, _ in TABLE_COLUMNS]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    with _text_target(target) as out:
        out.write(_table_line(headers, widths) + "\n")
        out.write(_table_line(["-" * w for w in widths], widths) + "\n")
        for row in rows:
            out.write(_table_line(row, widths) + "\n")
    return len(cands)


def _name_width(target: Target, other_widths: list[int]) -> Optional[int]:
    """Room for the name column on the terminal ``target`` is (None, no limit, when it is not one)."""
    if not (hasattr(target, "isatty") and target.isatty()):
        return None
    import shutil

    room = shutil.get_terminal_size().columns - sum(other_widths) - 2 * len(other_widths)
    return max(MIN_NAME_WIDTH, room)


def _table_row(cand: Candidate, rank: int) -> list[str]:
    """The cells of one row; control and escape characters shown escaped, never sent to the terminal."""
    return [
        str(rank),
        printable(cand.name, 10_000),
        _number(cand.logp, ".2f"),
        _number(cand.logp_per_char, ".3f"),
        "yes" if cand.passed else "no",
        printable(cand.smiles or "", 10_000),
        printable(REASON_SEPARATOR.join(cand.reasons), 10_000),
    ]


def _number(value: Optional[float], spec: str) -> str:
    return "" if chem.is_missing(value) else format(value, spec)


def _truncate(text: str, limit: Optional[int]) -> str:
    text = " ".join(text.split())  # no tabs or newlines inside a cell
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _table_line(cells: list[str], widths: list[int]) -> str:
    parts = [
        cell.rjust(width) if right else cell.ljust(width)
        for cell, width, (_, _, right) in zip(cells, widths, TABLE_COLUMNS)
    ]
    return "  ".join(parts).rstrip()


# ---------------------------------------------------------------- structure formats


def _structures(cands: list[Candidate]) -> Iterator[tuple[int, Candidate, Any]]:
    """(rank, candidate, Mol) for the candidates whose SMILES RDKit can read."""
    for rank, cand in enumerate(cands, 1):
        mol = chem.mol_from_smiles(cand.smiles)
        if mol is not None:
            yield rank, cand, mol


def write_sdf(cands: list[Candidate], path: Union[str, os.PathLike]) -> int:
    """SDF with 2D coordinates; title = name, data fields = the record. Returns molecules written.

    Candidates without a readable structure are skipped (``len(cands) - n`` of them).
    """
    from rdkit import Chem
    from rdkit.Chem import rdDepictor

    fields = [f for f in field_names(cands) if f not in ("name", "smiles")]
    written = 0
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as out, chem.quiet_rdkit():
        buffer = io.StringIO()
        writer = Chem.SDWriter(buffer)
        for rank, cand, mol in _structures(cands):
            rdDepictor.Compute2DCoords(mol)
            mol.SetProp("_Name", cand.name)
            record = to_record(cand, rank)
            for field in fields:
                if record.get(field) not in (None, [], ""):
                    mol.SetProp(field, _csv_cell(record[field]))
            writer.write(mol)
            written += 1
        writer.close()
        out.write(buffer.getvalue())
    return written


def write_grid_image(
    cands: list[Candidate],
    path: Union[str, os.PathLike],
    n: int = 24,
    per_row: int = 4,
    cell_size: tuple[int, int] = (300, 300),
) -> int:
    """A PNG or SVG grid (by extension) of the first ``n`` structures, names as legends.

    Returns the number drawn; with no structure to draw, no file is written.
    """
    from rdkit.Chem import Draw

    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ConfigError(f"grid image {path} must end in .png or .svg")
    if n < 1 or per_row < 1:
        raise ConfigError("grid image needs n >= 1 and per_row >= 1")
    drawn = [(cand, mol) for _, cand, mol in _structures(cands)][:n]
    if not drawn:
        return 0
    legends = [wrap_legend(cand.name, cell_size[0]) for cand, _ in drawn]
    with chem.quiet_rdkit():
        image = Draw.MolsToGridImage(
            [mol for _, mol in drawn],
            molsPerRow=min(per_row, len(drawn)),
            subImgSize=cell_size,
            legends=legends,
            useSVG=suffix == ".svg",
            returnPNG=suffix == ".png",
            legendFraction=0.16,  # room for up to three lines of name
        )
    if suffix == ".svg":  # RDKit declares iso-8859-1; other characters become XML references
        with atomic_open(path, "w", encoding="iso-8859-1", errors="xmlcharrefreplace") as out:
            out.write(image)
    else:
        with atomic_open(path, "wb") as out:
            out.write(image)
    return len(drawn)


def wrap_legend(name: str, cell_width: int, max_lines: int = 3) -> str:
    """Wrap a name to the cell (about 7 px per character) in at most ``max_lines`` lines."""
    width = max(8, cell_width // 7)
    lines = textwrap.wrap(name, width, break_long_words=True, break_on_hyphens=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 3] + "..."  # ASCII: RDKit's fonts lack '…'
    return "\n".join(lines)


def write_html(cands: list[Candidate], target: Target) -> int:
    """A self-contained HTML page (chemgen.output.html): sortable table, structures, settings, pass rates."""
    from chemgen.output.html import write_page

    return write_page(cands, target)


# ---------------------------------------------------------------- dispatch

Writer = Callable[[list["Candidate"], Any], int]
FORMATS: dict[str, Writer] = {  # the registry: a new output format is one writer and one entry here
    "table": write_table,
    "csv": write_csv,
    "jsonl": write_jsonl,
    "names": write_names,
    "sdf": write_sdf,
    "png": write_grid_image,
    "svg": write_grid_image,
    "html": write_html,
}
IMAGE_FORMATS = ("png", "svg")  # drawn with --image, not --format
FILE_FORMATS = ("sdf", "html")  # need --output
RESULT_FORMATS = tuple(f for f in FORMATS if f not in IMAGE_FORMATS)  # the choices of --format
EXTENSIONS = {
    ".txt": "table", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".sdf": "sdf", ".sd": "sdf", ".png": "png", ".svg": "svg", ".html": "html", ".htm": "html",
}


def format_for_path(path: Union[str, os.PathLike]) -> str:
    """The format a file name asks for, by extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise ConfigError(f"cannot tell the output format of {path} (known extensions: {known})")
    return EXTENSIONS[suffix]


def write(cands: list[Candidate], target: Target, fmt: Optional[str] = None) -> int:
    """Write in ``fmt`` (or the format the path's extension names); returns the count written."""
    if fmt is None:
        fmt = "table" if hasattr(target, "write") else format_for_path(target)  # type: ignore[arg-type]
    if fmt not in FORMATS:
        raise ConfigError(f"unknown output format {quoted(fmt)} (known: {', '.join(FORMATS)})")
    if (fmt in FILE_FORMATS or fmt in IMAGE_FORMATS) and hasattr(target, "write"):
        raise ConfigError(f"format {fmt} needs a file path, not a stream")
    return FORMATS[fmt](cands, target)


def write_stream(chunks: Iterable[list[Candidate]], target: Target, fmt: str) -> int:
    """Write candidates arriving in chunks, holding one chunk at a time for csv, jsonl and names.

    CSV rows wait in a temporary file until every column is known; table and
    sdf need the whole list and collect it. Returns the count written.
    """
    if fmt not in STREAMED:
        return write([c for chunk in chunks for c in chunk], target, fmt)
    with _text_target(target) as out:
        return STREAMED[fmt](chunks, out)


def _stream_jsonl(chunks: Iterable[list[Candidate]], out: IO[str]) -> int:
    count = 0
    for chunk in chunks:
        fields = field_names(chunk)
        for cand in chunk:
            count += 1
            record = to_record(cand, count)
            out.write(json.dumps({f: record.get(f) for f in fields}, ensure_ascii=False, allow_nan=False,
                                 default=str) + "\n")
    return count


def _stream_names(chunks: Iterable[list[Candidate]], out: IO[str]) -> int:
    count = 0
    for chunk in chunks:
        count += write_names(chunk, out)
    return count


def _stream_csv(chunks: Iterable[list[Candidate]], out: IO[str]) -> int:
    count, keys = 0, set()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for chunk in chunks:
            for cand in chunk:
                count += 1
                record = to_record(cand, count)
                keys.update(record)
                spool.write(json.dumps(record, default=str) + "\n")
        fields = _fields(keys)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        spool.seek(0)
        for line in spool:
            record = json.loads(line)
            writer.writerow([_csv_cell(record.get(field)) for field in fields])
    return count


STREAMED = {"csv": _stream_csv, "jsonl": _stream_jsonl, "names": _stream_names}
