"""Real servers for tests, on 127.0.0.1 free ports, always stopped by PID: MLflow tracking, model serving,
PostgreSQL, and a basic-auth proxy. Each is a context manager that waits until the service answers a real
request."""
from __future__ import annotations

import base64
import contextlib
import glob
import http.client
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (a server and its workers), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def http_service(cmd: list[str], ready_url: str, log: Path, env: dict | None = None, timeout: float = 120,
                 cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """Start `cmd` in its own process group, wait until GET ready_url answers 200, stop it afterwards."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"{' '.join(cmd[:4])} did not start (exit {proc.poll()}):\n{_tail(log)}")
            time.sleep(0.5)
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def mlflow_server(backend_uri: str, tmp: Path, artifacts_destination: Path | None = None) -> Iterator[str]:
    """`mlflow server` with one worker and no job runner (0.5 GB instead of 3 GB); yields its base URL.

    With `artifacts_destination` the server stores artifacts in that local folder and proxies them, so
    clients need no access to the folder (the team setup)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri, "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1"]
    if artifacts_destination is not None:
        cmd += ["--artifacts-destination", str(artifacts_destination)]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    # /health answers before the API does: poll a real endpoint.
    with http_service(cmd, f"{base}/api/2.0/mlflow/experiments/search?max_results=1", tmp / "mlflow-server.log",
                      env, timeout=90):
        yield base


class _AuthProxy(http.server.BaseHTTPRequestHandler):
    """Forwards a request to `upstream` only when it carries the expected basic-auth header; 401 otherwise."""

    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]
    expected: str
    seen: list[tuple[str, str, int]]
    _HOP = {"authorization", "host", "connection", "keep-alive", "transfer-encoding", "content-length"}

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in self._HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.seen.append((self.command, self.path, status))

    def _forward(self) -> None:
        body = self._body()
        if self.headers.get("Authorization") != self.expected:
            self._reply(401, [("WWW-Authenticate", 'Basic realm="mlflow"')], b"authentication required\n")
            return
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(self.command, self.path, body=body or None,
                         headers={k: v for k, v in self.headers.items() if k.lower() not in self._HOP})
            resp = conn.getresponse()
            self._reply(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    def log_message(self, *args) -> None:  # quiet: the test reads `seen`
        pass


@contextlib.contextmanager
def basic_auth_proxy(upstream: str, username: str, password: str) -> Iterator[tuple[str, list]]:
    """A reverse proxy on 127.0.0.1 that lets through only requests with these basic-auth credentials, as a
    team puts in front of `mlflow server`. Yields (its base URL, the (method, path, status) of every request)."""
    parts = urllib.parse.urlsplit(upstream)
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    handler = type("Proxy", (_AuthProxy,), {"upstream": (parts.hostname, parts.port), "expected": f"Basic {token}",
                                            "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _pg_bin() -> str | None:
    """Debian keeps initdb/pg_ctl in /usr/lib/postgresql/<version>/bin, off PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()])
    if found:
        return os.path.dirname(found[-1])
    on_path = shutil.which("pg_ctl")
    return os.path.dirname(on_path) if on_path else None


PG_BIN = _pg_bin()


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free 127.0.0.1 port; yields a postgresql:// URI of database `mlflow`.

    PostgreSQL refuses to run as root (CI runs as root): then the cluster runs as the `postgres` user, in a
    folder of its own under /tmp (pytest's tmp folders are private to root).
    """
    if PG_BIN is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    home = Path(tempfile.mkdtemp(prefix="stance-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no unprivileged 'postgres' user to run PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
        os.chown(home, pw.pw_uid, pw.pw_gid)
    data, log, port = home / "data", home / "postgres.log", free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)  # noqa: E731
    try:
        out = run(f"{PG_BIN}/initdb", "-D", str(data), "-U", "mlflow", "--auth=trust", "-E", "UTF8", "--no-sync")
        if out.returncode:
            pytest.fail(f"initdb failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        # Loopback TCP only, unix socket in our folder (not /run/postgresql), no fsync for a throwaway store.
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off"
        out = run(f"{PG_BIN}/pg_ctl", "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start")
        if out.returncode:
            pytest.fail(f"pg_ctl start failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}\n{_tail(log)}")
        try:
            out = run(f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "mlflow", "mlflow")
            if out.returncode:
                pytest.fail(f"createdb failed:\n{out.stderr[-2000:]}")
            yield f"postgresql://mlflow@127.0.0.1:{port}/mlflow"
        finally:
            run(f"{PG_BIN}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)
