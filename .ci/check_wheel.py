"""Check a built chemgen wheel before it is installed: its contents, its version and its entry points.

    python .ci/check_wheel.py dist/chemgen-VERSION-py3-none-any.whl

check-wheel-contents compares the wheel with the source packages (configured
in pyproject.toml: every file of chemgen/ and plugins/chemgen_plugins/ in the
wheel, nothing else, no bytecode or duplicates); this script adds what a
pipeline installing the wheel needs: the shipped models and data by name, no
tests or build leftovers, the version of chemgen/version.py in the metadata,
the command and the filter plugins registered. It ends with the wheel's size
and its largest files, the figures README gives.
"""
from __future__ import annotations

import configparser
import fnmatch
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ["chemgen/model/shipped/druglike.npz", "chemgen/model/shipped/systematic.npz",
            "chemgen/model/shipped/common.npz", "chemgen/model/shipped/README.md",
            "chemgen/chem/data/known_compounds.tsv.gz", "chemgen/chem/data/opsin_warmup.txt",
            "chemgen_plugins/data/suffix_rules.json"]
FORBIDDEN = ["tests/*", "bench/*", "datasets/*", "docs/*", "examples/*", "build/*", "site/*", "*.pyc",
             "*/__pycache__/*", "*.egg-info/*", "*.ckpt.npz", "*.names/*", "*/.pytest_cache/*", "*/.hypothesis/*"]


def problems(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    found = [f"missing {path}" for path in REQUIRED if path not in names]
    found += [f"should not ship {name}" for name in names if any(fnmatch.fnmatch(name, p) for p in FORBIDDEN)]
    declared = re.search(r'__version__ = "([^"]+)"', (ROOT / "chemgen/version.py").read_text())[1]
    version = re.search(r"^Version: (.+)$", meta, re.M)[1]
    if version != declared:
        found.append(f"metadata version {version} is not chemgen/version.py's {declared}")
    found += [f"entry point missing: {line}" for line in expected_entry_points() if line not in entry_points]
    return found


def expected_entry_points() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = []
    for group in ("console_scripts", "chemgen.filters"):
        lines += [f"{line.split('=')[0].strip()} = {line.split('=')[1].strip()}"
                  for line in config["options.entry_points"][group].strip().splitlines()]
    return lines


def sizes(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        biggest = sorted(archive.infolist(), key=lambda i: -i.compress_size)[:5]
    rows = [f"  {i.compress_size / 1e6:5.1f} MB  {i.filename} ({i.file_size / 1e6:.1f} MB unpacked)" for i in biggest]
    return f"{wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB; largest entries:\n" + "\n".join(rows)


def main(argv: list[str]) -> int:
    wheel = Path(argv[0])
    contents = subprocess.run([sys.executable, "-m", "check_wheel_contents", str(wheel)], cwd=ROOT)
    found = problems(wheel)
    for problem in found:
        print(f"{wheel.name}: {problem}", file=sys.stderr)
    print(sizes(wheel))
    return 1 if found or contents.returncode else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
