"""Property-based tests of the filter stage and option parsing (hypothesis; few examples)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from chemgen.errors import ChemgenError, ConfigError
from chemgen.filters import Candidate, FilterStage, FilterStats, build_filters, parse_spec, split_specs
from chemgen.filters.options import parse_flag, parse_number, parse_range

FAST = settings(max_examples=40, deadline=None)


@FAST
@given(st.lists(st.text(max_size=60), max_size=12))
def test_one_verdict_per_input_through_the_stage(names):
    candidates = [Candidate(name) for name in names]
    with FilterStage("suffix") as stage:
        out = stage.run(candidates, keep_failed=True)
    assert out == candidates and all(set(c.verdicts) == {"suffix"} for c in candidates)
    assert stage.stats.get("suffix", FilterStats()).seen == len(names)


@FAST
@given(st.text(max_size=80))
def test_spec_parsing_fails_only_with_config_errors(text):
    try:
        for spec in split_specs(text):
            parse_spec(spec)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@FAST
@given(st.text(max_size=40))
def test_building_filters_from_any_text_fails_only_with_chemgen_errors(text):
    try:
        build_filters(f"suffix,rdkit({text})")
    except ChemgenError as exc:
        assert "\n" not in str(exc).strip() or "\n" in text


@FAST
@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(), st.none()))
def test_option_parsers_fail_only_with_config_errors(value):
    for parse in (lambda v: parse_flag("f", "o", v), lambda v: parse_number("f", "o", v, minimum=0),
                  lambda v: parse_range("f", "o", v)):
        try:
            parse(value)
        except ConfigError:
            pass
