"""The examples in README and the documentation run.

Every fenced code block in the files below carries a marker on the line
before it, an HTML comment that neither GitHub nor MkDocs shows:

- ``<!-- example: run -->``: run as written (``sh`` with bash, ``python``
  with this interpreter) in a scratch folder holding the files an example
  may name (see ``write_fixtures``); it must exit 0;
- ``<!-- example: run tiny -->``: the same, with every shipped model name
  (``druglike``, the default, ``systematic``, ``common``) standing for a tiny
  model, where the shipped ones would take minutes;
- ``; replace "A" "B"`` after either: the text A is run as B (a step count
  or a budget cut to seconds), visible to whoever reads the Markdown;
- ``<!-- example: file NAME -->``: the block is a file (a TOML run, an oracle
  script) written to NAME in the scratch folder of its page's examples;
- ``<!-- example: illustration (why) -->``: shown, never run (an install,
  hours of training, a cluster, output).

An unmarked block fails ``test_every_block_is_marked``, so a new example is
either run or says why not.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md",
         ROOT / "chemgen" / "model" / "shipped" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MARKER = re.compile(r"^\s*<!-- example: (?P<kind>run|illustration|file)\b(?P<rest>.*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<lang>[\w+-]*)")
REPLACE = re.compile(r'replace\s+"(?P<old>[^"]*)"\s+"(?P<new>[^"]*)"')
SHELLS = {"sh", "bash", "shell", "console"}
TIMEOUT = 180  # seconds a block may take (each takes seconds; the margin is for a loaded machine)


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    kind: str = ""  # run, illustration, file; "" when unmarked
    tiny: bool = False
    file_name: str = ""
    replacements: list[tuple[str, str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def program(self) -> str:
        text = self.text
        for old, new in self.replacements:
            assert old in text, f"{self.where}: replace {old!r}, which the block does not hold"
            text = text.replace(old, new)
        return text


def read_blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, each with the marker on the line before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(fence)
                    and lines[j].strip().strip(fence[0]) == ""), len(lines))
        body = "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip()
                         for line in lines[i + 1:end])
        block = Block(page, i + 1, opening["lang"].lower(), body + "\n")
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        if marker:
            mark(block, marker["kind"], marker["rest"])
        blocks.append(block)
        i = end + 1
    return blocks


def mark(block: Block, kind: str, rest: str) -> None:
    block.kind = kind
    if kind == "file":
        block.file_name = rest.strip()
    elif kind == "run":
        options, _, replaces = rest.partition(";")
        block.tiny = "tiny" in options.split()
        block.replacements = [(m["old"], m["new"]) for m in REPLACE.finditer(replaces)]


BLOCKS = [block for page in PAGES if page.exists() for block in read_blocks(page)]
RUNNABLE = [b for b in BLOCKS if b.kind == "run"]


def test_every_block_is_marked():
    unmarked = [b.where for b in BLOCKS if not b.kind]
    assert not unmarked, "code blocks without an <!-- example: ... --> marker: " + ", ".join(unmarked)


def test_marked_blocks_are_known_languages():
    odd = [f"{b.where} ({b.lang or 'no language'})" for b in RUNNABLE if b.lang not in SHELLS | {"python"}]
    assert not odd, "runnable blocks must be sh or python: " + ", ".join(odd)
    assert not [b.where for b in BLOCKS if b.kind == "file" and not b.file_name], "a file block needs a name"


def test_readme_examples_are_run():
    """README's tour and Python example are executed, not only shown."""
    readme = [b for b in RUNNABLE if b.page.name == "README.md" and b.page.parent == ROOT]
    assert {b.lang for b in readme} >= {"sh", "python"}


# ---------------------------------------------------------------- running them


SERIES = ["COc1ccc2[nH]ccc2c1 5-methoxyindole", "Clc1ccc2[nH]ccc2c1 5-chloroindole",
          "Fc1ccc2[nH]ccc2c1 5-fluoroindole", "Cc1ccc2[nH]ccc2c1 5-methylindole",
          "O=Cc1c[nH]c2ccccc12 indole-3-carbaldehyde", "NCCc1c[nH]c2ccccc12 tryptamine"]
CORPUS = ["CCO", "CCCO", "CC(C)O", "CCCCO", "CC(=O)O", "CCC(=O)O", "c1ccccc1", "Cc1ccccc1", "CCc1ccccc1",
          "Oc1ccccc1", "Nc1ccccc1", "Clc1ccccc1", "CC(C)C", "CCCCC", "CCCCCC", "C1CCCCC1", "CC1CCCCC1",
          "OC1CCCCC1", "CCOC(C)=O", "CCN(CC)CC", "not a smiles"]
CELECOXIB = "Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F celecoxib"


@pytest.fixture(scope="session")
def example_tools(tmp_path_factory, tiny_model_path):
    """Commands on PATH for the examples (chemgen, python), and a folder of tiny stand-ins for the shipped models."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for name, command in {"chemgen": f"{shlex.quote(sys.executable)} -m chemgen.cli",
                          "python": shlex.quote(sys.executable), "python3": shlex.quote(sys.executable)}.items():
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        path.chmod(0o755)
    shipped = tmp_path_factory.mktemp("shipped")
    for name in ("druglike", "systematic", "common"):
        shutil.copy(tiny_model_path, shipped / f"{name}.npz")
    site = tmp_path_factory.mktemp("tiny_site")
    (site / "sitecustomize.py").write_text(
        "import os\nfrom pathlib import Path\n\nimport chemgen.model.estimator as estimator\n\n"
        "estimator.SHIPPED_DIR = Path(os.environ['CHEMGEN_EXAMPLE_SHIPPED'])  # tiny models in place of the shipped\n")
    return bin_dir, shipped, site


def write_fixtures(folder: Path, tiny_model_path: Path, corpus: list[str]) -> None:
    """The files the examples name."""
    from rdkit import Chem

    (folder / "names.txt").write_text("\n".join(corpus) + "\n")
    (folder / "valid.txt").write_text("\n".join(corpus[::7]) + "\n")
    (folder / "my_names.txt").write_text("ethanol\nnotachemical\n2-methylpropan-1-ol\nbenzene\n")
    for name in ("model.npz", "agent.npz"):
        shutil.copy(tiny_model_path, folder / name)
    for name in ("lead.smi", "celecoxib.smi"):
        (folder / name).write_text(CELECOXIB + "\n")
    (folder / "series.smi").write_text("\n".join(SERIES) + "\n")
    writer = Chem.SDWriter(str(folder / "series.sdf"))
    for line in SERIES:
        smiles, title = line.split()
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", title)
        writer.write(mol)
    writer.close()
    (folder / "corpus.smi").write_text("\n".join(CORPUS) + "\n")
    (folder / "datasets").symlink_to(ROOT / "datasets")


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.where for b in RUNNABLE])
def test_example_runs(block: Block, tmp_path, example_tools, tiny_model_path, corpus):
    bin_dir, shipped, site = example_tools
    write_fixtures(tmp_path, tiny_model_path, corpus)
    for other in BLOCKS:
        if other.page == block.page and other.kind == "file":
            (tmp_path / other.file_name).write_text(other.text)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", CHEMGEN_NO_PROGRESS="1",
               OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg", CHEMGEN_CACHE_DIR=str(tmp_path / ".cache"))
    paths = [str(ROOT), str(ROOT / "plugins"), env.get("PYTHONPATH", "")]
    if block.tiny:
        paths.insert(0, str(site))
        env["CHEMGEN_EXAMPLE_SHIPPED"] = str(shipped)
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    script = tmp_path / ("example.py" if block.lang == "python" else "example.sh")
    script.write_text(block.program())
    command = [sys.executable, script.name] if block.lang == "python" else ["bash", "-euo", "pipefail", script.name]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (f"{block.where} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
                                  f"\n--- stderr\n{done.stderr[-3000:]}")
