"""The pubchem filter against a fake PUG REST server on 127.0.0.1 (never the real PubChem)."""
from __future__ import annotations

import json
import multiprocessing
import socket
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from chemgen.errors import ConfigError, FilterError
from chemgen.filters import Candidate, build_filters
from chemgen_plugins import throttle
from chemgen_plugins.pubchem import DEFAULT_URL, PubChemFilter, parse_answer
from chemgen_plugins.pubchem_cache import CACHE_FILE, FOUND, NOT_FOUND, UNKNOWN, Answer, AnswerCache
from chemgen_plugins.throttle import RateLimiter, parse_throttling, shared_limiter, throttle_pause
from pubchem_server import FakePubChem

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Every test: a dead local URL unless a server is started, a private cache, online."""
    monkeypatch.setenv("CHEMGEN_PUBCHEM_URL", f"http://127.0.0.1:{closed_port()}/rest/pug")
    monkeypatch.setenv("CHEMGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CHEMGEN_OFFLINE", raising=False)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server(monkeypatch):
    fake = FakePubChem().start()
    monkeypatch.setenv("CHEMGEN_PUBCHEM_URL", fake.url)
    yield fake
    fake.stop()


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make(**options) -> PubChemFilter:
    """A filter with a fast private limiter and a short backoff, so tests are quick."""
    options.setdefault("backoff", "0.01")
    options.setdefault("limiter", RateLimiter(limits=((1000, 1.0),), margin=0.0))
    return PubChemFilter(**options)


def check(filter_: PubChemFilter, *names: str):
    return filter_.check([Candidate(name) for name in names])


class FakeClock:
    """A clock whose sleep advances it, for the limiter."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def max_in_window(times: list[float], window: float) -> int:
    """The most timestamps in any half-open window of ``window`` seconds."""
    times, most, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


# ---------------------------------------------------------------- answers and verdicts


def test_found_name_passes_with_annotations(server):
    [verdict] = check(make(), "aspirin")
    assert verdict.passed and verdict.score == 1.0
    assert verdict.reason == "in PubChem (CID 2244)"
    assert verdict.annotations == {"smiles": "CC(=O)OC1=CC=CC=C1C(=O)O", "inchikey": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
                                   "cid": 2244, "formula": "C9H8O4", "mw": pytest.approx(180.16)}
    candidate = Candidate("aspirin")
    candidate.record("pubchem", verdict)
    assert candidate.smiles == "CC(=O)OC1=CC=CC=C1C(=O)O" and candidate.properties["cid"] == 2244


def test_name_pubchem_does_not_know_is_a_plain_fail(server):
    [verdict] = check(make(), "zorbonium chloride")
    assert not verdict.passed and verdict.score == 0.0
    assert verdict.reason == "not in PubChem" and verdict.annotations == {}


def test_mode_novel_passes_only_names_pubchem_does_not_know(server):
    server.script("benzene", "garbage")
    found, missing, unknown = check(make(mode="novel"), "aspirin", "zorbonium", "benzene")
    assert (found.passed, missing.passed, unknown.passed) == (False, True, False)
    assert found.reason == "already in PubChem (CID 2244)" and found.annotations["cid"] == 2244
    assert missing.reason == "not in PubChem" and missing.score == 1.0
    assert unknown.reason.startswith("unknown:")


def test_names_travel_in_the_post_body_and_current_smiles_properties_are_asked(server):
    names = ["2,4-dinitrophenol", "(E)-but-2-ene/cis", "café-ine"]
    verdicts = check(make(), *names)
    assert [v.passed for v in verdicts] == [True, True, False]
    assert [seen.method for seen in server.requests] == ["POST"] * 3
    assert sorted(parse_qs(seen.body)["name"][0] for seen in server.requests) == sorted(names)
    for seen in server.requests:
        assert "dinitro" not in seen.path and "caf" not in seen.path
        assert "SMILES,ConnectivitySMILES" in seen.path and "CanonicalSMILES" not in seen.path
        assert "IsomericSMILES" not in seen.path


def test_duplicates_are_asked_once_and_every_candidate_gets_one_verdict(server):
    names = ["aspirin", "benzene", "aspirin", " benzene ", "", "zorbonium", "aspirin"]
    verdicts = check(make(), *names)
    assert len(verdicts) == len(names)
    assert sorted(server.names()) == ["aspirin", "benzene", "zorbonium"]
    assert [v.passed for v in verdicts] == [True, True, True, True, False, False, True]
    assert verdicts[4].reason == "unknown: empty name"


def test_parse_answer_never_raises():
    assert parse_answer(b'{"PropertyTable": {"Properties": []}}').status == NOT_FOUND
    assert parse_answer(b'{"PropertyTable": {"Properties": [{"CID": 1}]}}').status == FOUND
    for body in (b"", b"\xff\xfe", b"[1, 2]", b'{"PropertyTable": 3}', b'{"PropertyTable": {"Properties": [{}]}}',
                 b"<!DOCTYPE html><html></html>", b"null"):
        assert parse_answer(body).status == UNKNOWN


# ---------------------------------------------------------------- faults and retries


def test_busy_storm_is_retried_until_an_answer(server):
    server.script("aspirin", "busy", "busy", "busy")
    [verdict] = check(make(retries="4"), "aspirin")
    assert verdict.passed
    assert server.names() == ["aspirin"] * 4


@pytest.mark.parametrize("fault", ["error", "timeout", "reset"])
def test_500_504_and_reset_connections_are_retried(server, fault):
    server.script("benzene", fault, fault)
    [verdict] = check(make(retries="2"), "benzene")
    assert verdict.passed and verdict.annotations["cid"] == 241
    assert server.names() == ["benzene"] * 3


def test_backoff_is_exponential_with_jitter(server):
    server.script("aspirin", "busy", "busy", "busy", "busy")
    check(make(retries="4", backoff="0.05"), "aspirin")
    times = [seen.time for seen in server.requests]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(gaps) == 4
    for attempt, gap in enumerate(gaps, start=1):
        assert gap >= 0.5 * 0.05 * 2 ** (attempt - 1) - 0.005
    assert gaps[-1] > gaps[0]
    client = make(backoff="1").client
    delays = [client.backoff_delay(3) for _ in range(200)]
    assert 2.0 <= min(delays) < max(delays) <= 4.0  # jittered within [half, full] of 1 * 2**2


def test_exhausted_retries_give_unknown_and_the_batch_carries_on(server):
    server.script("aspirin", *["busy"] * 10)
    busy, found, missing = check(make(retries="2"), "aspirin", "benzene", "zorbonium")
    assert not busy.passed and busy.score == 0.0
    assert busy.reason.startswith("unknown: PubChem unreachable after 3 attempts")
    assert "503" in busy.reason and "ServerBusy" in busy.reason
    assert found.passed and missing.reason == "not in PubChem"
    assert server.names().count("aspirin") == 3


def test_unknown_answers_are_not_cached(server):
    server.script("aspirin", "busy", "busy")
    [first] = check(make(retries="1"), "aspirin")
    assert first.reason.startswith("unknown:")
    [second] = check(make(retries="1"), "aspirin")
    assert second.passed and server.names() == ["aspirin"] * 3


def test_connection_refused_is_unknown_after_retries():
    [verdict] = check(make(retries="1"), "aspirin")
    assert verdict.reason.startswith("unknown: PubChem unreachable after 2 attempts")
    assert "refused" in verdict.reason.lower()


def test_slow_server_times_out_and_is_retried(server):
    server.slow_seconds = 1.0
    server.script("aspirin", "slow")
    started = time.monotonic()
    [verdict] = check(make(timeout="0.2", retries="2"), "aspirin")
    assert verdict.passed and time.monotonic() - started < 1.0
    server.script("benzene", "slow", "slow")
    slow, fine = check(make(timeout="0.2", retries="1"), "benzene", "ethanol")
    assert slow.reason == "unknown: PubChem unreachable after 2 attempts (no answer within 0.2 s)"
    assert fine.passed


def test_garbage_or_html_bodies_are_unknown_never_a_crash(server):
    server.script("aspirin", "garbage")
    server.script("benzene", "html404")
    garbage, html404, fine = check(make(), "aspirin", "benzene", "ethanol")
    assert garbage.reason == "unknown: unreadable answer from PubChem (an HTML page)"
    assert html404.reason.startswith("unknown: HTTP 404")  # not a PUGREST.NotFound, so not "not in PubChem"
    assert fine.passed


def test_a_mixed_bad_batch_still_gives_one_verdict_per_candidate(server):
    for name, fault in [("aspirin", "busy"), ("benzene", "garbage"), ("ethanol", "reset")]:
        server.script(name, *[fault] * 5)
    names = ["aspirin", "benzene", "ethanol", "zorbonium", "aspirin", "2,4-dinitrophenol"] * 2
    verdicts = check(make(retries="1", workers="3"), *names)
    assert len(verdicts) == len(names)
    assert [v.passed for v in verdicts[:6]] == [False, False, False, False, False, True]
    assert [v.reason for v in verdicts[:6]] == [v.reason for v in verdicts[6:]]


def test_interrupting_a_batch_cuts_retries_short(server, monkeypatch):
    server.script("aspirin", *["busy"] * 10)
    filter_ = make(backoff="10", workers="2")  # aspirin would wait 10 s, 20 s, ... between attempts

    def interrupt(name, answer):
        if name == "benzene":
            raise KeyboardInterrupt

    monkeypatch.setattr(filter_, "_remember", interrupt)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        check(filter_, "aspirin", "benzene")
    assert time.monotonic() - started < 3.0
    assert server.names().count("aspirin") <= 1


# ---------------------------------------------------------------- politeness


def test_throttling_header_parsing_tolerates_anything():
    header = "Request Count status: Yellow (60%), Request Time status: Green (5%), Service status: Red (80%)"
    assert parse_throttling(header) == {"request count": ("Yellow", 60), "request time": ("Green", 5),
                                        "service": ("Red", 80)}
    assert throttle_pause(header) == throttle.THROTTLE_PAUSES["Red"]
    assert throttle_pause("Request Count status: Green (0%)") == 0.0
    assert throttle_pause("Request Count status: Black (100%)") == throttle.THROTTLE_PAUSES["Black"]
    for junk in (None, "", "nonsense", "Request Count status: Purple (9%)", "status: (%)"):
        assert throttle_pause(junk) == 0.0


@pytest.mark.parametrize("colour", ["Yellow", "Red"])
def test_yellow_and_red_headers_slow_every_caller(server, colour):
    server.throttle = f"Request Count status: {colour} (70%), Request Time status: Green (1%), Service status: Green (5%)"
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    verdicts = check(make(limiter=limiter, workers="1"), "aspirin", "benzene")
    assert all(v.passed for v in verdicts)
    assert max(clock.sleeps) >= throttle.THROTTLE_PAUSES[colour] - 1e-9


@pytest.mark.parametrize("header", [None, "garbled ;; header", "Request Count status: (x%)"])
def test_absent_or_malformed_throttling_header_is_harmless(server, header):
    server.throttle = header
    clock = FakeClock()
    assert check(make(limiter=RateLimiter(clock=clock, sleep=clock.sleep)), "aspirin")[0].passed
    assert clock.sleeps == []


def test_limiter_keeps_pubchem_windows_on_a_fake_clock():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    granted = []
    for _ in range(700):
        with limiter.slot():
            granted.append(clock.now)
    assert max_in_window(granted, 1.0) == 5
    assert max_in_window(granted, 60.0) <= 400
    assert granted[-1] - granted[0] >= 699 / 5  # no faster than 5 per second overall


def test_limiter_minute_window_binds_when_it_is_the_tighter_one():
    clock = FakeClock()
    limiter = RateLimiter(limits=((50, 1.0), (400, 60.0)), margin=0.0, clock=clock, sleep=clock.sleep)
    granted = []
    for _ in range(1000):
        with limiter.slot():
            granted.append(clock.now)
    assert max_in_window(granted, 60.0) == 400
    assert max_in_window(granted, 1.0) == 50
    assert granted[399] - granted[0] < 10 and granted[400] - granted[0] >= 60.0


def test_limiter_pause_holds_back_the_next_request():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    with limiter.slot():
        limiter.pause(5.0)
    assert limiter.acquire() == pytest.approx(5.0)


def test_limiter_is_thread_safe_and_bounds_arrivals_however_late():
    limiter = RateLimiter(limits=((4, 0.2),), margin=0.0)
    granted, lock = [], threading.Lock()

    def work() -> None:
        for i in range(4):
            with limiter.slot():
                time.sleep(0.03 * (i % 2))  # a request "arrives" any time while it holds its slot
                with lock:
                    granted.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 24 and max_in_window(granted, 0.2) <= 4


def test_filters_share_one_process_wide_limiter():
    assert PubChemFilter().client.limiter is PubChemFilter().client.limiter is shared_limiter()


def test_real_server_never_sees_more_than_five_requests_in_a_second(server):
    names = [f"unheard-of compound {i}" for i in range(12)]
    verdicts = PubChemFilter(workers="4").check([Candidate(name) for name in names])
    assert [v.reason for v in verdicts] == ["not in PubChem"] * 12
    assert len(server.requests) == 12
    assert max_in_window([seen.time for seen in server.requests], 1.0) <= 5


# ---------------------------------------------------------------- cache and offline


def test_second_run_sends_no_requests(server, tmp_path):
    first = check(make(), "aspirin", "zorbonium")
    assert len(server.requests) == 2
    second = check(make(), "aspirin", "zorbonium")
    assert len(server.requests) == 2
    assert [(v.passed, v.reason, v.annotations) for v in first] == [(v.passed, v.reason, v.annotations) for v in second]
    assert (tmp_path / "cache" / CACHE_FILE).exists()


def test_cache_expiry_is_honoured(server, tmp_path):
    check(make(), "aspirin", "zorbonium")
    with sqlite3.connect(tmp_path / "cache" / CACHE_FILE) as db:
        db.execute("UPDATE answers SET fetched = fetched - 31 * 86400")
    check(make(cache_days="60"), "aspirin", "zorbonium")
    assert len(server.requests) == 2  # 31 days old is fresh for 60
    check(make(), "aspirin", "zorbonium")
    assert len(server.requests) == 4  # but stale for the default 30


def test_offline_answers_from_the_cache_only(server, monkeypatch):
    check(make(), "aspirin", "zorbonium")
    monkeypatch.setenv("CHEMGEN_OFFLINE", "1")
    filter_ = make()
    cached, missing, uncached = check(filter_, "aspirin", "zorbonium", "benzene")
    assert cached.passed and cached.annotations["cid"] == 2244
    assert missing.reason == "not in PubChem"
    assert uncached.reason == "unknown: offline, not in cache" and not uncached.passed
    assert len(server.requests) == 2
    ok, message = filter_.available()
    assert ok and "offline" in message


def test_offline_option_and_stale_entries(server, tmp_path):
    check(make(), "aspirin")
    with sqlite3.connect(tmp_path / "cache" / CACHE_FILE) as db:
        db.execute("UPDATE answers SET fetched = fetched - 400 * 86400")
    [verdict] = check(make(offline=True), "aspirin")
    assert verdict.passed and len(server.requests) == 1  # offline, a stale answer beats none


def test_the_offline_flag_reaches_the_filter_in_filter_and_generate(server, tiny_model_path, tmp_path, capsys):
    """--offline: no request, answers from the cache only; without it, PubChem is asked."""
    from chemgen.cli import main

    def run(*args):
        code = main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        assert code == 0, err
        return [json.loads(line) for line in out.splitlines()], err

    names = tmp_path / "names.txt"
    names.write_text("aspirin\nzorbonium\n")
    rows, _ = run("filter", names, "--filters", "pubchem", "--offline", "--format", "jsonl")
    assert not server.requests and [row["reasons"] for row in rows] == [["pubchem: unknown: offline, not in cache"]] * 2
    rows, _ = run("filter", names, "--filters", "pubchem", "--format", "jsonl")
    assert sorted(server.names()) == ["aspirin", "zorbonium"] and [row["passed"] for row in rows] == [True, False]
    rows, _ = run("filter", names, "--filters", "pubchem", "--offline", "--format", "jsonl")
    assert len(server.requests) == 2 and [row["passed"] for row in rows] == [True, False]  # from the cache
    rows, err = run("generate", "--model", tiny_model_path, "-n", 2, "--seed", 0, "--filters", "pubchem", "--offline",
                    "--max-tries", 64, "--format", "jsonl")
    assert len(server.requests) == 2 and rows == [] and "passed pubchem 0/64" in err


def test_cache_is_wal_and_keyed_by_source(server, tmp_path, monkeypatch):
    check(make(), "aspirin")
    with sqlite3.connect(tmp_path / "cache" / CACHE_FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT source, name, status FROM answers").fetchall() == [(server.url, "aspirin", FOUND)]
    monkeypatch.setenv("CHEMGEN_OFFLINE", "1")
    monkeypatch.setenv("CHEMGEN_PUBCHEM_URL", server.url + "/")
    assert check(make(), "aspirin")[0].passed


def test_broken_cache_file_is_dropped_with_a_warning(server, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.warns(UserWarning, match="cache"):
        [verdict] = check(make(), "aspirin")
    assert verdict.passed


def _write_answers(path: str, prefix: str, barrier) -> None:
    """Child process: many short writes into a shared cache."""
    cache = AnswerCache(Path(path))
    barrier.wait()
    for i in range(150):
        cache.put("http://x", f"name {i}", Answer(FOUND, {"CID": i, "by": prefix}))
        cache.put("http://x", f"{prefix} {i}", Answer(NOT_FOUND))
    cache.close()


def test_two_processes_write_the_same_cache(tmp_path):
    path = tmp_path / "shared" / CACHE_FILE
    AnswerCache(path).get_many("http://x", ["warm-up"])  # create the file and schema once
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_write_answers, args=(str(path), prefix, barrier)) for prefix in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    names = [f"name {i}" for i in range(150)] + [f"{p} {i}" for p in "ab" for i in range(150)]
    answers = AnswerCache(path).get_many("http://x", names)
    assert len(answers) == 450
    assert all(answers[f"name {i}"].record["CID"] == i for i in range(150))


# ---------------------------------------------------------------- configuration


def test_options_arrive_as_strings_through_the_spec_parser(server):
    [filter_] = build_filters("pubchem(mode=novel,timeout=2.5,retries=1,backoff=0.01,cache_days=7,workers=3,offline)")
    assert (filter_.mode, filter_.client.timeout, filter_.client.retries, filter_.workers) == ("novel", 2.5, 1, 3)
    assert filter_.offline and filter_.cache.max_age == 7 * 86400
    assert filter_.name == "pubchem"


@pytest.mark.parametrize("options", [{"mode": "famous"}, {"timeout": "soon"}, {"timeout": "0"}, {"retries": "-1"},
                                     {"retries": True}, {"cache_days": "-3"}, {"offline": "maybe"},
                                     {"workers": "0"}])
def test_bad_options_are_one_line_config_errors(options):
    with pytest.raises(ConfigError) as info:
        PubChemFilter(**options)
    assert "\n" not in str(info.value) and str(info.value).startswith("pubchem:")


def test_unknown_option_is_a_filter_error():
    with pytest.raises(FilterError):
        build_filters("pubchem(colour=blue)")


def test_available_and_the_default_url(monkeypatch):
    monkeypatch.delenv("CHEMGEN_PUBCHEM_URL")
    filter_ = PubChemFilter()
    assert filter_.base_url == DEFAULT_URL  # only built, never asked: tests stay off the real host
    monkeypatch.setenv("CHEMGEN_PUBCHEM_URL", "http://127.0.0.1:1/pug/")
    assert PubChemFilter().base_url == "http://127.0.0.1:1/pug"


@pytest.mark.parametrize("url", ["pubchem.example", "ftp://127.0.0.1/pug", "http://"])
def test_a_malformed_base_url_is_a_config_error(monkeypatch, url):
    monkeypatch.setenv("CHEMGEN_PUBCHEM_URL", url)
    with pytest.raises(ConfigError, match="CHEMGEN_PUBCHEM_URL"):
        PubChemFilter()


def test_available_says_when_pubchem_cannot_be_reached(server, monkeypatch):
    """`chemgen filters` is honest about the network: a quick connection, no request sent."""
    from chemgen.filters import discover_filters, filter_status

    assert PubChemFilter().available() == (True, "") and not server.requests
    monkeypatch.setenv("CHEMGEN_PUBCHEM_URL", f"http://127.0.0.1:{closed_port()}/rest/pug")
    ok, why = PubChemFilter().available()
    assert not ok and why.startswith("cannot reach 127.0.0.1:") and "--offline" in why
    assert filter_status(discover_filters()["pubchem"]).startswith("unavailable: cannot reach")
    assert PubChemFilter(offline=True).available()[0]  # the cache still answers
