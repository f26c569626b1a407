"""MkDocs hooks: the command-line reference, rendered from ``chemgen.cli.build_parser()`` at build time; and
Sphinx roles in docstrings (``:class:`~a.B` ``) shown as plain code in the API reference.

A page holding the marker ``<!-- cli-reference -->`` gets, in its place, a
section per command: its summary, usage, and a table per group of its
arguments (flag, argument, help with the default). The flags that derive from
the settings dataclasses come through the parser like the others, so nothing
here is written by hand and nothing can drift.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

MARKER = "<!-- cli-reference -->"
WIDTH = 80  # usage lines are wrapped at this width, whatever the terminal
ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):<code>(~?)([\w.]+)</code>")

ROOT = Path(__file__).resolve().parents[2]


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render_reference())


def on_page_content(html: str, page, config, files) -> str:
    """A docstring's ``:class:`~chemgen.x.Name` `` as the code ``Name`` (the full path without the tilde)."""
    return ROLE.sub(lambda m: f"<code>{m[2].rsplit('.', 1)[-1] if m[1] else m[2]}</code>", html)


def render_reference() -> str:
    """The whole reference as Markdown."""
    for path in (ROOT / "plugins", ROOT):  # this checkout, before any installed copy
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from chemgen.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {a.dest: a.help for a in sub._choices_actions}
    parts = [usage_block(parser), argument_tables(parser)]
    for name, command in sub.choices.items():
        parts.append(command_section(name, command, summaries.get(name, "")))
    return "\n\n".join(p for p in parts if p) + "\n"


def command_section(name: str, command: argparse.ArgumentParser, summary: str) -> str:
    lines = [f"## chemgen {name}", "", escape(summary[:1].upper() + summary[1:]) + "." if summary else ""]
    if command.description:
        lines += ["", escape(command.description)]
    lines += ["", usage_block(command), "", argument_tables(command)]
    return "\n".join(lines)


def usage_block(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return "```text\n" + formatter.format_help().strip() + "\n```"


def argument_tables(parser: argparse.ArgumentParser) -> str:
    """A table per argument group that has something to show (help and subcommand lists left out)."""
    formatter = argparse.HelpFormatter(parser.prog, width=WIDTH)
    out = []
    for group in parser._action_groups:
        rows = [row(formatter, action) for action in group._group_actions if shown(action)]
        if not rows:
            continue
        title = group.title[:1].upper() + group.title[1:]
        out += [f"**{escape(title)}**", "", "| argument | value | what it does |", "|---|---|---|", *rows, ""]
    return "\n".join(out).rstrip()


def shown(action: argparse.Action) -> bool:
    return action.help != argparse.SUPPRESS and not isinstance(
        action, (argparse._HelpAction, argparse._SubParsersAction))


def row(formatter: argparse.HelpFormatter, action: argparse.Action) -> str:
    names = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.dest}`"
    value = ""
    if action.choices is not None and not isinstance(action, argparse.BooleanOptionalAction):
        value = " \\| ".join(f"`{c}`" for c in action.choices)
    elif action.nargs != 0 and action.option_strings:
        value = f"`{action.metavar or action.dest.upper()}`"
    help_text = formatter._expand_help(action) if action.help else ""
    if default_worth_showing(action) and "default" not in help_text:
        help_text += f" (default {action.default})"
    return f"| {names} | {value} | {escape(help_text)} |"


def default_worth_showing(action: argparse.Action) -> bool:
    return action.option_strings and action.default not in (None, False, argparse.SUPPRESS) and action.nargs != 0


def escape(text: str) -> str:
    """Help text as a Markdown table cell: pipes, angle brackets and stray asterisks kept literal."""
    return (" ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_"))
