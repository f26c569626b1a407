"""The filter stage: the plugin contract, loading plugins, running them.

Plugin authors need only this package's top level: ``Candidate``, ``Verdict``,
the ``Filter`` protocol and the option parsers.
"""
from chemgen.filters.contract import Candidate, Filter, Verdict
from chemgen.filters.loading import (
    ENTRY_POINT_GROUP,
    FilterEntry,
    discover_filters,
    inject_filter,
    parse_spec,
    remove_injected,
    split_specs,
)
from chemgen.filters.options import parse_choice, parse_flag, parse_number, parse_path, parse_range, parse_seconds
from chemgen.filters.stage import (
    DEFAULT_FILTERS,
    FilterStage,
    FilterStats,
    apply_filters,
    build_filters,
    filter_status,
)

__all__ = [
    "Candidate", "Verdict", "Filter", "FilterStage", "FilterStats",
    "DEFAULT_FILTERS", "ENTRY_POINT_GROUP", "FilterEntry", "discover_filters", "inject_filter", "remove_injected",
    "parse_spec", "split_specs", "build_filters", "apply_filters", "filter_status",
    "parse_flag", "parse_number", "parse_range", "parse_seconds", "parse_choice", "parse_path",
]
