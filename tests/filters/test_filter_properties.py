"""Property-based tests of the filter stage and option parsing (hypothesis; few examples).

Each test draws inputs whose outcome is known by construction, and checks that outcome: the exact
value parsed, or a ConfigError with the message that input must give.
"""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chemgen.chem.molecules import PROPERTY_NAMES
from chemgen.errors import ConfigError, FilterError
from chemgen.filters import Candidate, FilterStage, FilterStats, build_filters, parse_spec, split_specs
from chemgen.filters.options import FALSE_WORDS, TRUE_WORDS, parse_flag, parse_number, parse_range
from chemgen_plugins.rdkit_checks import CHEMISTRY_CHECKS, OPTION_NAMES

FAST = settings(max_examples=40, deadline=None)

IDENTIFIER = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
FILTER_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,8}", fullmatch=True)
# an option value: no separator, bracket or surrounding space (those the parser strips or splits on)
VALUE = st.text(st.characters(blacklist_characters=",()[]{}", blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                min_size=1, max_size=12)
OPTIONS = st.dictionaries(IDENTIFIER, st.one_of(st.just(True), VALUE), max_size=4)
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
NOT_A_NUMBER = st.text("bcdghjklmopqrsuvwxz", min_size=1, max_size=10)  # no letter of inf, nan, e


def spec_text(name, options):
    """A spec written out: name, or name(key=value,flag,...)."""
    items = [key if value is True else f"{key}={value}" for key, value in options.items()]
    return f"{name}({','.join(items)})" if items else name


def one_line_config_error(call, fragment, error=ConfigError):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert fragment in message and "\n" not in message, message


@FAST
@given(st.lists(st.text(max_size=60), max_size=12))
def test_one_verdict_per_input_through_the_stage(names):
    candidates = [Candidate(name) for name in names]
    with FilterStage("suffix") as stage:
        out = stage.run(candidates, keep_failed=True)
    assert out == candidates and all(set(c.verdicts) == {"suffix"} for c in candidates)
    assert stage.stats.get("suffix", FilterStats()).seen == len(names)


@FAST
@given(st.lists(st.tuples(FILTER_NAME, OPTIONS), min_size=1, max_size=4))
def test_a_written_filter_list_parses_back_to_its_names_and_options(specs):
    text = " , ".join(spec_text(name, options) for name, options in specs)
    assert [parse_spec(spec) for spec in split_specs(text)] == [(name, options) for name, options in specs]


@FAST
@given(FILTER_NAME, OPTIONS, st.sampled_from("([{"))
def test_an_unclosed_bracket_is_a_config_error(name, options, opener):
    text = spec_text(name, options) + f",{name}({opener}"
    one_line_config_error(lambda: split_specs(text), "unbalanced '('")


@FAST
@given(st.from_regex(r"[0-9\-][A-Za-z0-9_]{0,6}", fullmatch=True), OPTIONS)
def test_a_name_that_is_not_an_identifier_is_a_malformed_spec(name, options):
    one_line_config_error(lambda: parse_spec(spec_text(name, options)), "malformed filter spec")


@FAST
@given(FILTER_NAME, st.from_regex(r"[0-9][A-Za-z0-9_]{0,6}", fullmatch=True), VALUE)
def test_an_option_key_that_is_not_an_identifier_is_malformed(name, key, value):
    one_line_config_error(lambda: parse_spec(f"{name}({key}={value})"), f"malformed option {f'{key}={value}'!r}")


RANGES = st.dictionaries(st.sampled_from(PROPERTY_NAMES), st.tuples(FINITE, FINITE).map(sorted), max_size=3)


@FAST
@given(RANGES, st.sets(st.sampled_from(CHEMISTRY_CHECKS)))
def test_rdkit_options_build_the_filter_they_describe(ranges, flags):
    options = [f"{prop}={low!r}:{high!r}" for prop, (low, high) in ranges.items()] + sorted(flags)
    suffix, rdkit = build_filters(f"suffix,rdkit({','.join(options)})")
    assert suffix.name == "suffix" and rdkit.name == "rdkit"
    assert {r.prop: [r.low, r.high] for r in rdkit.ranges} == ranges
    assert rdkit.allowed == {flag: flag in flags for flag in CHEMISTRY_CHECKS}


@FAST
@given(IDENTIFIER.filter(lambda key: key not in OPTION_NAMES), st.one_of(st.just(True), VALUE))
def test_an_unknown_rdkit_option_is_named(key, value):
    one_line_config_error(lambda: build_filters(spec_text("rdkit", {key: value})),
                          f"filter 'rdkit' has no option {key!r}", FilterError)


@FAST
@given(st.one_of(st.booleans(), st.none(), st.sampled_from(TRUE_WORDS + FALSE_WORDS).map(
    lambda word: f" {word.upper()} ")))
def test_flags_parse_to_their_meaning(value):
    expected = value.strip().lower() in TRUE_WORDS if isinstance(value, str) else bool(value)
    assert parse_flag("f", "o", value) is expected


@FAST
@given(st.one_of(NOT_A_NUMBER, st.integers(-2**53, 2**53).filter(lambda i: i not in (0, 1)), FINITE))
def test_anything_else_is_not_a_flag(value):
    one_line_config_error(lambda: parse_flag("f", "o", value), f"f: option o={value!r} is a flag")


@FAST
@given(st.one_of(FINITE.filter(lambda x: x >= 0), st.integers(0, 2**53)))
def test_numbers_at_or_above_the_minimum_parse_exactly(value):
    for given_as in (value, repr(value)):
        assert parse_number("f", "o", given_as, minimum=0) == float(value)


@FAST
@given(st.one_of(st.floats(max_value=-5e-324, allow_infinity=False), st.integers(-2**53, -1)))
def test_numbers_below_the_minimum_are_refused(value):
    one_line_config_error(lambda: parse_number("f", "o", value, minimum=0), f"option o={value!r} must be at least 0")


@FAST
@given(st.one_of(NOT_A_NUMBER, st.booleans(), st.none()))
def test_what_is_not_a_number_is_refused(value):
    one_line_config_error(lambda: parse_number("f", "o", value, minimum=0), f"option o={value!r} needs a number")


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "inf", "nan", "-Infinity"])
def test_numbers_that_are_not_finite_are_refused(value):
    one_line_config_error(lambda: parse_number("f", "o", value), f"option o={value!r} must be a finite number")


@FAST
@given(st.tuples(FINITE, FINITE).map(sorted), st.booleans(), st.booleans())
def test_ranges_parse_to_their_ends(ends, open_low, open_high):
    low, high = None if open_low else ends[0], None if open_high else ends[1]
    text = f"{'' if low is None else repr(low)}:{'' if high is None else repr(high)}"
    assert parse_range("f", "o", text) == (low, high)
    assert parse_range("f", "o", (ends[0], ends[1])) == (ends[0], ends[1])


@FAST
@given(st.tuples(FINITE, FINITE).filter(lambda pair: pair[0] > pair[1]))
def test_a_range_whose_low_end_is_above_its_high_end_is_empty(ends):
    one_line_config_error(lambda: parse_range("f", "o", f"{ends[0]!r}:{ends[1]!r}"), "f: empty range o=")


@FAST
@given(st.one_of(NOT_A_NUMBER, FINITE.map(repr), st.integers(-2**53, 2**53), st.none(), st.just("1:2:3")))
def test_a_range_needs_one_colon(value):
    one_line_config_error(lambda: parse_range("f", "o", value), f"f: malformed range o={value!r}")
