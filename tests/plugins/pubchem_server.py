"""A fake PUG REST server on 127.0.0.1 for the pubchem filter's tests.

It answers ``POST /rest/pug/compound/name/property/<props>/JSON`` with the
name in the body, from a small table of compounds, and can be scripted per
name to misbehave: ``busy`` (503 PUGREST.ServerBusy), ``error`` (500),
``timeout`` (504), ``slow`` (sleep past the client's timeout), ``garbage``
(200 with an HTML page), ``html404`` (404 with an HTML page), ``reset`` (drop
the connection), ``ok`` (answer normally). Every request is recorded with its
arrival time, path and body. ``throttle`` sets the X-Throttling-Control header
(None leaves it out).
"""
from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs

PREFIX = "/rest/pug/compound/name/property/"
GREEN = "Request Count status: Green (0%), Request Time status: Green (0%), Service status: Green (10%)"

COMPOUNDS = {
    "aspirin": {"CID": 2244, "MolecularFormula": "C9H8O4", "MolecularWeight": "180.16",
                "SMILES": "CC(=O)OC1=CC=CC=C1C(=O)O", "ConnectivitySMILES": "CC(=O)OC1=CC=CC=C1C(=O)O",
                "InChIKey": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"},
    "benzene": {"CID": 241, "MolecularFormula": "C6H6", "MolecularWeight": "78.11",
                "SMILES": "C1=CC=CC=C1", "ConnectivitySMILES": "C1=CC=CC=C1",
                "InChIKey": "UHOVQNZJYSORNB-UHFFFAOYSA-N"},
    "ethanol": {"CID": 702, "MolecularFormula": "C2H6O", "MolecularWeight": "46.07",
                "SMILES": "CCO", "ConnectivitySMILES": "CCO", "InChIKey": "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"},
    "2,4-dinitrophenol": {"CID": 1493, "MolecularFormula": "C6H4N2O5", "MolecularWeight": "184.11",
                          "SMILES": "C1=CC(=C(C=C1[N+](=O)[O-])[N+](=O)[O-])O",
                          "ConnectivitySMILES": "C1=CC(=C(C=C1[N+](=O)[O-])[N+](=O)[O-])O",
                          "InChIKey": "UFBJCMHMOXMLKC-UHFFFAOYSA-N"},
    "(e)-but-2-ene/cis": {"CID": 62695, "MolecularFormula": "C4H8", "MolecularWeight": "56.11",
                          "SMILES": "C/C=C/C", "ConnectivitySMILES": "CC=CC",
                          "InChIKey": "IAQRGUVFOMOMEM-ONEGZZNKSA-N"},
}


@dataclass
class Seen:
    """One request as the server saw it."""

    time: float  # time.monotonic() on arrival
    method: str
    path: str
    body: str
    name: Optional[str]


class FakePubChem:
    """The server's state: compounds, per-name scripts, recorded requests."""

    def __init__(self) -> None:
        self.compounds = {name: dict(record) for name, record in COMPOUNDS.items()}
        self.scripts: dict[str, deque[str]] = defaultdict(deque)
        self.requests: list[Seen] = []
        self.throttle: Optional[str] = GREEN
        self.slow_seconds = 1.0
        self.lock = threading.Lock()
        self.httpd: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/rest/pug"

    def script(self, name: str, *actions: str) -> None:
        """Answer the next requests for ``name`` with ``actions`` in turn, then normally."""
        self.scripts[name.lower()].extend(actions)

    def names(self) -> list[Optional[str]]:
        """The names asked, in arrival order."""
        return [seen.name for seen in self.requests]

    def next_action(self, name: Optional[str]) -> str:
        with self.lock:
            script = self.scripts.get((name or "").lower())
            return script.popleft() if script else "ok"

    def start(self) -> "FakePubChem":
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _fault(code: str, message: str) -> bytes:
    return json.dumps({"Fault": {"Code": code, "Message": message}}).encode()


def _handler_for(server: FakePubChem) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._record("")
            self._send(405, _fault("PUGREST.NotAllowed", "use POST"))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            name = (parse_qs(body).get("name") or [None])[0]
            self._record(body, name)
            if not self.path.startswith(PREFIX) or name is None:
                return self._send(400, _fault("PUGREST.BadRequest", "bad path or body"))
            self._act(server.next_action(name), name)

        def _act(self, action: str, name: str) -> None:
            if action == "slow":
                time.sleep(server.slow_seconds)
            if action == "reset":
                return self._reset()
            canned = {
                "busy": (503, _fault("PUGREST.ServerBusy", "Too many requests or server too busy")),
                "error": (500, _fault("PUGREST.ServerError", "Some problem on the server side")),
                "timeout": (504, _fault("PUGREST.Timeout", "The request timed out")),
                "garbage": (200, b"<html><body>Service temporarily unavailable</body></html>"),
                "html404": (404, b"<html><body>Not Found</body></html>"),
            }
            if action in canned:
                return self._send(*canned[action])
            record = server.compounds.get(name.lower())
            if record is None:
                return self._send(404, _fault("PUGREST.NotFound", "No CID found"))
            self._send(200, json.dumps({"PropertyTable": {"Properties": [record]}}).encode())

        def _record(self, body: str, name: Optional[str] = None) -> None:
            with server.lock:
                server.requests.append(Seen(time.monotonic(), self.command, self.path, body, name))

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            is_json = payload.startswith(b"{")
            self.send_header("Content-Type", "application/json" if is_json else "text/html")
            self.send_header("Content-Length", str(len(payload)))
            if server.throttle is not None:
                self.send_header("X-Throttling-Control", server.throttle)
            self.end_headers()
            try:
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout) before we answered
                self.close_connection = True

        def _reset(self) -> None:
            """Close with RST instead of answering."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

    return Handler
