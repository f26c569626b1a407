"""The version is declared once (chemgen/version.py): the package, the command line, setup.cfg, the installed
metadata and the changelog agree with it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

import chemgen
from chemgen.version import __version__

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_gives_the_declared_version():
    assert chemgen.__version__ == __version__
    assert str(Version(__version__)) == __version__, "a PEP 440 version, written in its normal form"


def test_the_command_line_gives_it():
    done = subprocess.run([sys.executable, "-m", "chemgen.cli", "--version"], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout == f"chemgen {__version__}\n"


def test_setup_cfg_reads_it():
    from setuptools.config.setupcfg import read_configuration

    assert "version = attr: chemgen.version.__version__" in (ROOT / "setup.cfg").read_text()
    assert read_configuration(ROOT / "setup.cfg")["metadata"]["version"] == __version__


def test_the_installed_metadata_gives_it():
    """The metadata pip wrote (the wheel's, for an install from this tree) carries the same version."""
    installed = [d for d in metadata.distributions() if d.metadata["Name"] == "chemgen" and d.read_text("direct_url.json")]
    if not installed:  # (a bare chemgen.egg-info in the tree, as setuptools leaves, is not an installation)
        pytest.skip("chemgen is not installed by pip (run from the source tree)")
    dist = installed[0]
    source = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
    if source.rstrip("/") != ROOT.as_uri():
        pytest.skip(f"the installed chemgen comes from {source or 'an index'}, not from this tree")
    assert dist.version == __version__, "reinstall: pip install -e . (the metadata is written at install time)"


def test_the_changelog_heads_with_it():
    """CHANGELOG's newest entry is this version, 'unreleased' while it is a development version."""
    heading = re.search(r"^## (\S+)(.*)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    version = Version(__version__)
    assert heading and heading[1] == version.base_version
    assert ("unreleased" in heading[2]) == version.is_devrelease
