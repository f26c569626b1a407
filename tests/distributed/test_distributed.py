"""Generating and checking on a Dask cluster: reproducible across worker counts, shard merges, worker death,
an external scheduler, and the PubChem limits kept cluster-wide. A LocalCluster of 2 one-thread processes."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

import chemgen  # noqa: E402
from chemgen.cli import main  # noqa: E402
from chemgen.generation.cluster import task_seed  # noqa: E402
from chemgen.generation.collector import Collector  # noqa: E402
from chemgen.generation.core import generate_shard  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from slow_filter import SlowFilter  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """Two worker processes with one thread each; they can import slow_filter."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), old) if p)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                      silence_logs=50) as cluster, distributed.Client(cluster) as c:
            yield c
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def merged_shards(model, seed, task_size, tasks, tries, filters="none"):
    """One collector over tasks 0..tasks-1, each run locally as its own shard (the definition of a run)."""
    total = Collector()
    for i in range(tasks):
        total = total.merge(generate_shard(model, min(task_size, tries - i * task_size), task_seed(seed, i),
                                           filters=filters))
    return total


def summary(results):
    """Names and structures in rank order, and the log-likelihoods (compared with a tolerance:
    workers run BLAS on one thread, so float32 sums may differ in the last bits)."""
    return Same([(c.name, c.inchikey) for c in results], [c.logp for c in results])


class Same:
    def __init__(self, keys, logps):
        self.keys, self.logps = keys, logps

    def __eq__(self, other):
        return self.keys == other.keys and self.logps == pytest.approx(other.logps, abs=1e-5)

    def __repr__(self):
        return f"Same({self.keys[:5]}..., {len(self.keys)} candidates)"


def test_merge_of_shards_equals_one_run(tiny_model):
    a = generate_shard(tiny_model, 300, seed=1, filters="suffix")
    b = generate_shard(tiny_model, 300, seed=2, filters="suffix")
    one = Collector()
    for shard in (a, b):
        one.count(shard.tried, shard.filter_stats)
        one.add_all(shard.by_key.values())
    merged = a.merge(b)
    assert summary(merged.results()) == summary(one.results())
    assert merged.tried == one.tried == 600
    assert merged.filter_stats == one.filter_stats
    # a run with the dropped duplicates re-added in the other order keeps the same likeliest names
    assert summary(b.merge(a).results()) == summary(merged.results())


def test_cluster_run_is_the_merge_of_its_seeded_shards(client, tiny_model):
    results = chemgen.generate(n=10**6, model=tiny_model, filters="suffix", seed=5, max_tries=1000,
                               client=client, task_size=300)
    local = merged_shards(tiny_model, 5, 300, 4, 1000, filters="suffix").results()
    assert summary(results) == summary(local)
    assert results.tried == 1000 and results.filter_stats == local.filter_stats


def test_same_seed_same_candidates_with_one_and_two_workers(client, tiny_model_path, tmp_path):
    out = tmp_path / "one.jsonl"
    code = main(["generate", "--model", str(tiny_model_path), "-n", "400", "--filters", "suffix", "--seed", "3",
                 "--task-size", "250", "--workers", "1", "--format", "jsonl", "-o", str(out)])
    assert code == 0
    one = [(r["name"], r["logp"]) for r in map(json.loads, out.read_text().splitlines())]
    two = chemgen.generate(n=400, model=str(tiny_model_path), filters="suffix", seed=3, client=client,
                           task_size=250)
    assert len(one) == 400
    assert [name for name, _ in one] == [c.name for c in two]
    assert [logp for _, logp in one] == pytest.approx([c.logp for c in two], abs=1e-4)


def test_check_on_the_cluster_keeps_input_order(client, tiny_model):
    names = ["methane", "xyz", "ethanol", "", "propan-1-ol", "bad name!"] * 5
    results = chemgen.check(names, filters="suffix", model=tiny_model, client=client, task_size=4)
    local = chemgen.check(names, filters="suffix", model=tiny_model)
    assert [(c.name, c.passed) for c in results] == [(c.name, c.passed) for c in local]
    assert [c.logp for c in results] == pytest.approx([c.logp for c in local], abs=1e-5)
    assert results.filter_stats == local.filter_stats


def test_pubchem_limits_hold_for_the_whole_cluster(client, monkeypatch, tmp_path):
    sys.path.insert(0, str(HERE.parent / "plugins"))
    from pubchem_server import FakePubChem

    fake = FakePubChem().start()
    try:
        monkeypatch.setenv("CHEMGEN_PUBCHEM_URL", fake.url)
        monkeypatch.setenv("CHEMGEN_CACHE_DIR", str(tmp_path / "cache"))
        names = ["aspirin", "benzene", "ethanol"] + [f"nonexistane{i}" for i in range(11)]
        results = chemgen.check(names + ["aspirin"], filters="pubchem", client=client, task_size=3)
    finally:
        fake.stop()
    assert [c.passed for c in results] == [True, True, True] + [False] * 11 + [True]
    assert sorted(fake.names()) == sorted(names)  # each name asked once: one cache for the cluster
    times = sorted(seen.time for seen in fake.requests)
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 5


def test_external_scheduler_and_workers(tiny_model_path, tmp_path):
    dask = Path(sys.executable).parent / "dask"
    address_file = tmp_path / "scheduler.json"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scheduler = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(address_file)], **quiet)
    worker = None
    try:
        for _ in range(300):
            if address_file.exists() and address_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        worker = subprocess.Popen([str(dask), "worker", address, "--nworkers", "2", "--nthreads", "1",
                                   "--no-dashboard", "--host", "127.0.0.1"], **quiet)
        with distributed.Client(address) as c:
            c.wait_for_workers(2, timeout=60)
        out = tmp_path / "lib.jsonl"
        assert main(["generate", "--model", str(tiny_model_path), "-n", "50", "--filters", "suffix", "--seed", "1",
                     "--scheduler", address, "--format", "jsonl", "-o", str(out)]) == 0
        assert len(out.read_text().splitlines()) == 50
        names = tmp_path / "names.txt"
        names.write_text("methane\nxyz\nethanol\n")
        checked = tmp_path / "checked.jsonl"
        assert main(["filter", str(names), "--filters", "suffix", "--scheduler", address, "--format", "jsonl",
                     "-o", str(checked)]) == 0
        assert [json.loads(line)["passed"] for line in checked.read_text().splitlines()] == [True, False, True]
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def test_workers_and_scheduler_together_is_a_one_line_error(capsys):
    assert main(["generate", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--filters", "none"]) == 2
    assert "not both" in capsys.readouterr().err


@pytest.fixture
def not_a_scheduler():
    """Loopback servers that are not Dask schedulers: an HTTP server, and a listener that accepts and never answers."""
    import http.server
    import socket

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    mute = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.extend(mute.accept() for _ in range(10)), daemon=True).start()
    yield {"http": f"tcp://127.0.0.1:{web.server_address[1]}", "mute": f"tcp://127.0.0.1:{mute.getsockname()[1]}"}
    web.shutdown()
    web.server_close()
    for conn, _ in held:
        conn.close()
    mute.close()


@pytest.mark.parametrize("which, message", [
    ("http", r"(not a|no) Dask scheduler"),
    ("mute", r"no Dask scheduler answered within 3 s"),
    ("foo://x", r"foo://x: not a Dask address \(unknown address scheme 'foo'"),
])
def test_a_scheduler_address_that_is_no_scheduler_is_one_line(capsys, monkeypatch, tiny_model_path, not_a_scheduler,
                                                                which, message):
    from chemgen.generation import cluster

    monkeypatch.setattr(cluster, "SCHEDULER_TIMEOUT", 3.0, raising=False)
    start = time.monotonic()
    code = main(["generate", "--model", str(tiny_model_path), "--filters", "none", "-n", "2",
                 "--scheduler", not_a_scheduler.get(which, which)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert time.monotonic() - start < 3.0 + 2.0


def test_a_killed_worker_loses_no_finished_work(client, tiny_model, tmp_path):
    """Kill one worker process mid-run: Dask reruns its task, the result equals the undisturbed run's."""
    marks = tmp_path / "marks"
    marks.mkdir()
    pids = client.run(os.getpid)
    killed = []

    def kill_one_after_a_few_batches():
        while len(list(marks.iterdir())) < 3:
            time.sleep(0.02)
        pid = next(iter(pids.values()))
        os.kill(pid, signal.SIGKILL)
        killed.append(len(list(marks.iterdir())))

    killer = threading.Thread(target=kill_one_after_a_few_batches, daemon=True)
    killer.start()
    results = chemgen.generate(n=10**6, model=tiny_model, filters=[SlowFilter(str(marks), 0.2)], seed=9,
                               max_tries=4000, client=client, task_size=200)
    killer.join(timeout=5)
    assert killed and killed[0] < 20  # the kill came mid-run
    assert set(client.run(os.getpid).values()) != set(pids.values()) or len(client.nthreads()) < 2
    assert results.tried == 4000
    assert summary(results) == summary(merged_shards(tiny_model, 9, 200, 20, 4000).results())
    client.wait_for_workers(2, timeout=60)


def test_a_corpus_named_on_the_cluster_matches_one_named_here(client, tmp_path, monkeypatch):
    from chemgen.chem import corpus

    monkeypatch.setattr(corpus, "CHUNK", 3)  # the client's chunking; workers only name the chunks they are sent
    molecules = ["CCO", "CC(C)O", "c1ccccc1O", "not a smiles", "CC(=O)O", "CCN", "CCCl"]
    here = corpus.name_corpus(molecules, tmp_path / "here", workers=1)
    there = corpus.name_corpus(molecules, tmp_path / "there", client=client)
    assert there.names == here.names and there.dropped == here.dropped == {corpus.R_SMILES: 1}
