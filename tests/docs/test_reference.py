"""The generated references cover what they say: every command and flag of the parser, every public name."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import chemgen

ROOT = Path(__file__).resolve().parents[2]


def load_hook():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "hooks" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_renders_every_command_and_flag():
    from chemgen.cli import build_parser

    text = load_hook().render_reference()
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert f"## chemgen {name}\n" in text
        section = text.split(f"## chemgen {name}\n", 1)[1].split("\n## chemgen ", 1)[0]
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}`" in section, f"chemgen {name} {flag} is not in the reference"


def test_the_cli_page_holds_the_marker_the_hook_fills():
    assert load_hook().MARKER in (ROOT / "docs" / "reference" / "cli.md").read_text()


def resolve(path: str):
    """The object a ``::: path`` line documents: a module, or a name in one."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def test_the_api_reference_documents_every_public_name():
    page = (ROOT / "docs" / "reference" / "api.md").read_text()
    documented = set()
    for path in re.findall(r"^::: ([\w.]+)", page, re.M):
        target = resolve(path)
        if inspect.ismodule(target):  # a whole module: the members it lists
            members = re.search(rf"::: {re.escape(path)}\n(?:\s+.*\n)*?\s+members: \[([^\]]*)\]", page)
            documented |= {id(getattr(target, m.strip())) for m in members[1].split(",")}
        else:
            documented.add(id(target))
    missing = [name for name in chemgen.__all__ if id(getattr(chemgen, name)) not in documented]
    assert not missing, f"public names missing from docs/reference/api.md: {missing}"
