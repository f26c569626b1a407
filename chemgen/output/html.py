"""HTML for people: structure drawings, candidate tables, notebook display and self-contained pages.

Everything here is self-contained: structures are inline SVG drawn by RDKit,
plots are embedded as ``data:`` URIs, CSS and the table-sorting script are
inline, so a page opens offline and can be mailed as one file.

- :func:`mol_svg`: one structure as an inline SVG element (None if unreadable).
- :func:`candidates_html` / :func:`candidate_html`: the notebook display
  (``_repr_html_``) of results and of one candidate.
- :func:`write_page`: the ``--format html`` writer: a sortable table of the
  candidates with a structure per row, the run's settings and filter pass rates.
- :func:`page`, :func:`table`, :func:`key_value_table`: building blocks the
  evaluation report (chemgen.evaluation.report) shares.
"""
from __future__ import annotations

import html
import re
from typing import Any, Iterable, Mapping, Optional, Sequence

from chemgen.chem import molecules as chem
from chemgen.filters.contract import Candidate, use_html_renderer
from chemgen.io.atomic import atomic_text

NOTEBOOK_ROWS = 50  # rows a notebook shows before "... and N more"

# property -> (column header, format, tooltip); the order is the table's
PROPERTY_COLUMNS = {
    "mw": ("MW", ".1f", "molecular weight, g/mol"),
    "clogp": ("cLogP", ".2f", "Wildman-Crippen logP"),
    "tpsa": ("TPSA", ".1f", "topological polar surface area, Å²"),
    "hbd": ("HBD", "d", "hydrogen-bond donors"),
    "hba": ("HBA", "d", "hydrogen-bond acceptors"),
    "rotatable_bonds": ("RotB", "d", "rotatable bonds"),
    "qed": ("QED", ".2f", "quantitative estimate of drug-likeness"),
    "heavy_atoms": ("heavy", "d", "heavy atoms"),
}
NOTEBOOK_PROPERTIES = ("mw", "clogp", "tpsa", "qed")
SMILES_STYLE = "display:block;font-family:monospace;font-size:11px;color:#5b6575"  # inline: notebooks lack our CSS

CSS = """
:root { --ink: #1d2430; --muted: #5b6575; --line: #d8dde6; --band: #f5f7fa; --accent: #2f6fb2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p.lead { color: var(--muted); margin: 0 0 8px; }
.cards { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.cards > div { min-width: 260px; }
table { border-collapse: collapse; }
th, td { padding: 4px 7px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { background: none; color: var(--muted); font-weight: normal; }
table.data tbody tr:nth-child(even) { background: #fafbfc; }
table.data tbody tr:hover { background: #eef4fb; }
table.sortable th[data-sort] { cursor: pointer; user-select: none; }
table.sortable th[data-sort]:hover { color: var(--accent); }
table.sortable th[data-sort]::after { content: " \\2195"; color: #b5bcc8; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; color: var(--accent); }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; color: var(--accent); }
thead th { position: sticky; top: 0; z-index: 1; }
td.structure { padding: 2px; width: 1%; }
td.structure svg { display: block; }
td.name { min-width: 11em; max-width: 24em; overflow-wrap: break-word; }
.smiles { display: block; color: var(--muted); font: 11px/1.3 ui-monospace, Menlo, Consolas, monospace;
          overflow-wrap: break-word; word-break: break-all; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; background: #e6eef8;
       color: var(--accent); margin-left: 4px; }
.tag.known { background: #f3ece0; color: #8a5a12; }
.fail { color: #a52b2b; }
.bar { display: inline-block; height: 8px; background: var(--accent); border-radius: 2px; vertical-align: middle; }
.bartrack { display: inline-block; width: 120px; height: 8px; background: var(--band); border-radius: 2px;
            margin-right: 8px; vertical-align: middle; }
.bartrack .bar { display: block; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.grid figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 4px; background: #fff; }
.grid figcaption { font-size: 12px; text-align: center; overflow-wrap: anywhere; color: var(--ink); }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
.plots img, img.plot { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.empty { color: var(--muted); font-style: italic; }
details summary { cursor: pointer; color: var(--accent); margin: 8px 0; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
"""

SORT_SCRIPT = """
(function () {
  "use strict";
  function cellKey(row, index, numeric) {
    var cell = row.cells[index];
    var text = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (text === "") return null;
    if (!numeric) return text.toLowerCase();
    var number = parseFloat(text);
    return isNaN(number) ? null : number;
  }
  function sortTable(table, header, index) {
    var numeric = header.getAttribute("data-sort") === "num";
    var direction = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute("aria-sort");
    header.setAttribute("aria-sort", direction);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, position) {
      return { row: row, key: cellKey(row, index, numeric), position: position };
    });
    var sign = direction === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {  /* blanks last either way */
        if (a.key === b.key) return a.position - b.position;
        return a.key === null ? 1 : -1;
      }
      if (a.key < b.key) return -sign;
      if (a.key > b.key) return sign;
      return a.position - b.position;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (header, index) {
      if (!header.hasAttribute("data-sort")) return;
      header.tabIndex = 0;
      header.title = header.title || "sort by this column";
      header.addEventListener("click", function () { sortTable(table, header, index); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortTable(table, header, index); }
      });
    });
  });
})();
"""

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def esc(value: Any) -> str:
    """Text made safe for HTML element content and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


# ---------------------------------------------------------------- structures


def mol_svg(smiles: Optional[str], width: int = 180, height: int = 130, title: str = "") -> Optional[str]:
    """An inline ``<svg>`` drawing of a structure, or None when RDKit cannot read the SMILES."""
    mol = chem.mol_from_smiles(smiles)
    if mol is None:
        return None
    from rdkit.Chem.Draw import rdMolDraw2D

    with chem.quiet_rdkit():
        try:
            drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
            options = drawer.drawOptions()
            options.clearBackground = False
            options.fixedBondLength = max(14.0, min(width, height) / 5)  # methane is not drawn ten times too big
            rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
            drawer.FinishDrawing()
            svg = drawer.GetDrawingText()
        except Exception:  # an odd structure RDKit cannot lay out: no drawing rather than no page
            return None
    svg = _XML_DECLARATION.sub("", svg).strip()
    label = f' role="img" aria-label="{esc(title or smiles)}"'
    return svg.replace("<svg ", f"<svg{label} ", 1)


def structure_cell(smiles: Optional[str], width: int = 160, height: int = 115, title: str = "") -> str:
    svg = mol_svg(smiles, width, height, title)
    return f'<td class="structure">{svg}</td>' if svg else '<td class="structure empty">no structure</td>'


# ---------------------------------------------------------------- values


def number_text(value: Any, spec: str) -> str:
    """A number formatted by ``spec``; blank for None and NaN; other values as text."""
    if chem.is_missing(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if spec == "d":
        return str(int(value)) if float(value).is_integer() else format(value, ".2f")
    text = format(value, spec)
    return text.lstrip("-") if float(text) == 0 else text  # no "-0.00"


def _value_attr(value: Any) -> str:
    """The sort key of a numeric cell (blank sorts last)."""
    if chem.is_missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return repr(float(value))


def num_cell(value: Any, spec: str) -> str:
    return f'<td class="num" data-value="{_value_attr(value)}">{esc(number_text(value, spec))}</td>'


# ---------------------------------------------------------------- building blocks


def key_value_table(rows: Iterable[tuple[str, Any]], css_class: str = "kv") -> str:
    """A two-column table of label and value (values already HTML when wrapped in :class:`Markup`)."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v if isinstance(v, Markup) else esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css_class}"><tbody>{body}</tbody></table>'


class Markup(str):
    """A string that is already HTML (not escaped again)."""


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[bool] = (),
          css_class: str = "data") -> str:
    """A plain data table; cells are escaped unless :class:`Markup`; ``numeric`` right-aligns columns."""
    numeric = list(numeric) + [False] * (len(headers) - len(numeric))
    head = "".join(f'<th class="num">{esc(h)}</th>' if n else f"<th>{esc(h)}</th>" for h, n in zip(headers, numeric))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if n else ""}>{c if isinstance(c, Markup) else esc(c)}</td>'
                         for c, n in zip(row, numeric)) + "</tr>"
        for row in rows
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def page(title: str, body: str, script: bool = True) -> str:
    """A complete, self-contained HTML document (inline CSS, the sorting script when asked)."""
    from chemgen.version import __version__

    js = f"<script>{SORT_SCRIPT}</script>" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="chemgen {esc(__version__)}">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n<footer>Written by chemgen {esc(__version__)}. "
        "Self-contained: opens offline; structures drawn with RDKit.</footer>\n"
        f"{js}\n</body>\n</html>\n"
    )


def structure_grid(items: Iterable[tuple[Optional[str], str, str]], width: int = 190, height: int = 140) -> str:
    """A grid of drawings from (smiles, caption, tag) triples; unreadable structures are skipped."""
    figures = []
    for smiles, caption, tag in items:
        svg = mol_svg(smiles, width, height, caption)
        if svg:
            badge = f' <span class="tag{" known" if tag != "new" else ""}">{esc(tag)}</span>' if tag else ""
            figures.append(f"<figure>{svg}<figcaption>{esc(caption)}{badge}</figcaption></figure>")
    return f'<div class="grid">{"".join(figures)}</div>' if figures else '<p class="empty">no structures to draw</p>'


# ---------------------------------------------------------------- candidates


def canonical_name(cand: Candidate) -> Optional[str]:
    """The structure's standard name: from the canonical filter (openclatura), else the known compound's."""
    return cand.properties.get("canonical_name") or cand.properties.get("known_name") or None


def _present(cands: Sequence[Candidate], key: str) -> bool:
    return any(not chem.is_missing(c.properties.get(key)) for c in cands)


def candidate_columns(cands: Sequence[Candidate], properties: Sequence[str]) -> list[str]:
    """The table's columns, in order: rank, structure, name, then those these candidates fill."""
    columns = ["rank", "structure", "name"]
    if any(canonical_name(c) for c in cands):
        columns.append("canonical")
    columns += [key for key in ("logp", "logp_per_char") if any(getattr(c, key) is not None for c in cands)]
    if any(c.in_training is not None for c in cands):
        columns.append("in_training")
    if any(not c.passed for c in cands):
        columns += ["passed", "reasons"]
    columns += [p for p in properties if _present(cands, p)]
    if _present(cands, "scaffold"):
        columns.append("scaffold")
    return columns


HEADERS = {  # column -> (header, sort kind or None, tooltip)
    "rank": ("rank", "num", "rank by the run's ranking key"),
    "structure": ("structure", None, ""),
    "name": ("name", "text", "generated name (SMILES below)"),
    "canonical": ("canonical name", "text", "the structure's standard IUPAC name (canonical filter), or the known "
                                            "compound's name, where known"),
    "logp": ("log p", "num", "natural-log likelihood of the name under the model"),
    "logp_per_char": ("log p / char", "num", "log p divided by the name's length plus the end token"),
    "in_training": ("novelty", "text", "is the name one of the model's training names"),
    "passed": ("passed", "text", "did the candidate pass every filter"),
    "reasons": ("reasons", "text", "why filters rejected it"),
    "scaffold": ("scaffold", "text", "Bemis-Murcko scaffold"),
}


def _header(column: str) -> tuple[str, Optional[str], str]:
    if column in PROPERTY_COLUMNS:
        label, _, tip = PROPERTY_COLUMNS[column]
        return label, "num", tip
    return HEADERS[column]


def candidate_row(cand: Candidate, rank: int, columns: Sequence[str], drawing: tuple[int, int]) -> str:
    cells = []
    for column in columns:
        if column == "rank":
            cells.append(f'<td class="num" data-value="{rank}">{rank}</td>')
        elif column == "structure":
            cells.append(structure_cell(cand.smiles, *drawing, title=cand.name))
        elif column == "name":
            smiles = f'<span class="smiles" style="{SMILES_STYLE}">{esc(cand.smiles)}</span>' if cand.smiles else ""
            cells.append(f'<td class="name" data-value="{esc(cand.name)}">{esc(cand.name)}{smiles}</td>')
        elif column == "canonical":
            cells.append(f"<td>{esc(canonical_name(cand) or '')}</td>")
        elif column in ("logp", "logp_per_char"):
            cells.append(num_cell(getattr(cand, column), ".2f" if column == "logp" else ".3f"))
        elif column == "in_training":
            text = "" if cand.in_training is None else ("in training" if cand.in_training else "new")
            cells.append(f"<td>{esc(text)}</td>")
        elif column == "passed":
            cells.append(f"<td>{'yes' if cand.passed else '<span class=fail>no</span>'}</td>")
        elif column == "reasons":
            cells.append(f"<td>{esc('; '.join(cand.reasons))}</td>")
        elif column == "scaffold":
            scaffold = cand.properties.get("scaffold")
            svg = mol_svg(scaffold, 120, 90, f"scaffold {scaffold}") if isinstance(scaffold, str) else None
            cells.append(f'<td data-value="{esc(scaffold)}">{svg or esc(scaffold)}</td>')
        else:
            cells.append(num_cell(cand.properties.get(column), PROPERTY_COLUMNS[column][1]))
    return "<tr>" + "".join(cells) + "</tr>"


def candidate_table(cands: Sequence[Candidate], properties: Sequence[str] = tuple(PROPERTY_COLUMNS),
                    sortable: bool = True, drawing: tuple[int, int] = (160, 115), limit: Optional[int] = None,
                    table_id: str = "candidates") -> str:
    """The candidates as a table: rank, structure, name (and SMILES), the columns they fill."""
    columns = candidate_columns(cands, properties)
    heads = []
    for column in columns:
        label, kind, tip = _header(column)
        attrs = (f' data-sort="{kind}"' if sortable and kind else "") + (f' title="{esc(tip)}"' if tip else "")
        attrs += ' class="num"' if kind == "num" else ""
        attrs += ' aria-sort="ascending"' if sortable and column == "rank" else ""
        heads.append(f"<th{attrs}>{esc(label)}</th>")
    shown = cands if limit is None else cands[:limit]
    rows = "".join(candidate_row(c, rank, columns, drawing) for rank, c in enumerate(shown, 1))
    css = "data sortable" if sortable else "data"
    return (f'<table class="{css}" id="{esc(table_id)}"><thead><tr>{"".join(heads)}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def candidates_html(cands: Sequence[Candidate], limit: int = NOTEBOOK_ROWS) -> str:
    """The notebook display of candidates: key columns and structures, the first ``limit`` rows."""
    cands = list(cands)
    if not cands:
        return '<div><p class="empty">no candidates</p></div>'
    parts = [candidate_table(cands, NOTEBOOK_PROPERTIES, sortable=False, drawing=(150, 105), limit=limit)]
    if len(cands) > limit:
        parts.append(f"<p>&hellip; and {len(cands) - limit} more (of {len(cands)}); "
                     f"<code>to_frame()</code> gives them all.</p>")
    return "<div>" + "".join(parts) + "</div>"


def results_html(results: Sequence[Candidate], limit: int = NOTEBOOK_ROWS) -> str:
    """:func:`candidates_html` under the run's one-line summary (for ``Results._repr_html_``)."""
    head = ""
    if getattr(results, "filter_stats", None) is not None:
        head = f"<p><b>chemgen</b>: {esc(results.summary())}</p>"  # type: ignore[attr-defined]
    return head + candidates_html(results, limit)


def candidate_html(cand: Candidate) -> str:
    """The notebook display of one candidate: its structure beside its fields."""
    rows: list[tuple[str, Any]] = [("name", cand.name)]
    if canonical_name(cand):
        rows.append(("canonical name", canonical_name(cand)))
    rows += [("log p", number_text(cand.logp, ".3f")), ("log p / char", number_text(cand.logp_per_char, ".3f"))]
    if cand.in_training is not None:
        rows.append(("novelty", "in training" if cand.in_training else "new"))
    rows += [("passed", "yes" if cand.passed else "no")]
    if cand.reasons:
        rows.append(("reasons", "; ".join(cand.reasons)))
    rows += [("SMILES", cand.smiles or ""), ("InChIKey", cand.inchikey or "")]
    for key, value in cand.properties.items():
        if key in ("known_name", "canonical_name") or chem.is_missing(value):
            continue
        label, spec = (PROPERTY_COLUMNS[key][0], PROPERTY_COLUMNS[key][1]) if key in PROPERTY_COLUMNS else (key, "")
        rows.append((label, number_text(value, spec) if spec else value))
    svg = mol_svg(cand.smiles, 220, 160, cand.name) or '<span class="empty">no structure</span>'
    return (f'<div style="display:flex;gap:16px;align-items:flex-start"><div>{svg}</div>'
            f"{key_value_table(rows)}</div>")


# ---------------------------------------------------------------- the --format html page


def _label(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def filter_rates(filter_stats: Mapping[str, Any], tried: int) -> str:
    """Each filter's seen / passed / pass rate with a bar, in run order."""
    rows = [("names in", Markup(f"{tried}"))] if tried else []
    for name, stats in filter_stats.items():
        rate = stats.passed / stats.seen if stats.seen else 0.0
        bar = f'<span class="bartrack"><span class="bar" style="width:{100 * rate:.1f}%"></span></span>'
        rows.append((name, Markup(f"{bar}{stats.passed} of {stats.seen} passed ({100 * rate:.1f}%)")))
    return key_value_table(rows) if rows else '<p class="empty">no filters ran</p>'


def hits_page(cands: Sequence[Candidate], title: str = "chemgen candidates") -> str:
    """The whole ``--format html`` page for ranked candidates (and the run's settings when they carry them)."""
    settings: Mapping[str, Any] = getattr(cands, "settings", None) or {}
    stats: Mapping[str, Any] = getattr(cands, "filter_stats", None) or {}
    tried = getattr(cands, "tried", 0) or 0
    duplicates = getattr(cands, "duplicates", 0) or 0
    lead = f"{len(cands)} candidates"
    if tried:
        lead += f" from {tried} names through the filters ({duplicates} duplicate structures dropped)"
    settings_html = key_value_table([(k, _label(v)) for k, v in settings.items()]) if settings else \
        '<p class="empty">no run settings recorded</p>'
    body = (
        f"<header><h1>{esc(title)}</h1><p class=\"lead\">{esc(lead)}. "
        "Click a column header to sort.</p></header>\n"
        f'<div class="cards"><div><h2>Run settings</h2>{settings_html}</div>'
        f"<div><h2>Filter pass rates</h2>{filter_rates(stats, tried)}</div></div>\n"
        f"<h2>Candidates</h2>\n"
        + (candidate_table(list(cands)) if cands else '<p class="empty">no candidates passed</p>')
    )
    return page(title, body)


def write_page(cands: Sequence[Candidate], target: Any) -> int:
    """Write :func:`hits_page` to a path (atomically) or a text stream; returns the number of rows."""
    text = hits_page(cands)
    if hasattr(target, "write"):
        target.write(text)
    else:
        with atomic_text(target) as out:
            out.write(text)
    return len(cands)


use_html_renderer(candidate_html)  # a Candidate shown in a notebook draws itself through this module
