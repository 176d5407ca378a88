"""Which tracking store, and whether it can be used, before MLflow touches it: credentials taken out of the URI,
a check within seconds that the store answers (MLflow itself retries an absent database for about a minute and
turns a read-only sqlite file into several SQLAlchemy tracebacks; here each becomes one line naming the masked
store), and a fresh sqlite store created under a file lock. `configure` points MLflow at the store.
"""
from __future__ import annotations

import base64
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import mlflow

from ..runtime.console import verbose
from ..runtime.masking import mask

DEFAULT_URI = "sqlite:///mlflow.db"
HTTP_TIMEOUT_S = 5
DB_TIMEOUT_S = 3
# SQLAlchemy dialects MLflow can use as a backend store, with their default ports.
DB_PORTS = {"postgresql": 5432, "postgres": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433}


class TrackingError(RuntimeError):
    """The tracking store cannot be used (unreachable server, unwritable artifact root, read-only store)."""


@dataclass(frozen=True)
class Store:
    uri: str  # what MLflow gets: an http(s) URI without user:password@
    username: str | None = None  # from the URI's userinfo; MLflow reads them from MLFLOW_TRACKING_USERNAME/PASSWORD
    password: str | None = None

    @property
    def scheme(self) -> str:
        return urllib.parse.urlsplit(self.uri).scheme.split("+")[0].lower()

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a sqlite:/// URI (None for other stores and in-memory databases)."""
        if self.scheme != "sqlite":
            return None
        path = self.uri.split("?", 1)[0][len("sqlite:///"):] if self.uri.startswith("sqlite:///") else ""
        return Path(path) if path and path != ":memory:" else None


def split_credentials(uri: str) -> Store:
    """`http://alice:pw@host:5000` -> Store('http://host:5000', 'alice', 'pw'); other URIs unchanged (database
    drivers take their credentials from the URI itself)."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or "@" not in parts.netloc:
        return Store(uri)
    host = parts.netloc.rsplit("@", 1)[1]
    clean = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    unquote = lambda v: None if v is None else urllib.parse.unquote(v)  # noqa: E731
    return Store(clean, unquote(parts.username), unquote(parts.password))


def _check_port(uri: str) -> None:
    """A port that is not a number is most often a password holding '/', '?' or '#': say so without echoing the
    parser's message, which quotes the part of the password before that character."""
    try:
        urllib.parse.urlsplit(uri).port
    except ValueError:
        raise TrackingError(f"MLflow tracking store {mask(uri)}: the host's port is not a number; a password with "
                            f"'/', '?', '#' or '@' must be percent-encoded (%2F, %3F, %23, %40)") from None


def check(store: Store) -> None:
    """Raise TrackingError (one line, masked URI) unless the store answers within seconds."""
    if store.scheme in ("http", "https") or store.scheme in DB_PORTS:
        _check_port(store.uri)
    if store.scheme in ("http", "https"):
        _check_http(store)
    elif store.scheme in DB_PORTS:
        _check_database(store.uri)
    elif store.sqlite_path is not None:
        _check_sqlite(store.sqlite_path)


def _auth_header(store: Store) -> dict[str, str]:
    """The same credentials MLflow will send: the URI's, else MLFLOW_TRACKING_USERNAME/PASSWORD or _TOKEN."""
    user = store.username or os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = store.password if store.username else os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user:
        pair = f"{user}:{password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    if token := os.environ.get("MLFLOW_TRACKING_TOKEN"):
        return {"Authorization": f"Bearer {token}"}
    return {}


def _check_http(store: Store) -> None:
    request = urllib.request.Request(store.uri.rstrip("/") + "/health", headers=_auth_header(store))
    try:
        urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S).close()
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            given = "the credentials given were refused" if _auth_header(store) else "it needs credentials"
            raise TrackingError(f"MLflow tracking server {mask(store.uri)} answered HTTP {e.code}: {given}; put "
                                f"them in the URI (http://USER:PASSWORD@host) or in MLFLOW_TRACKING_USERNAME and "
                                f"MLFLOW_TRACKING_PASSWORD") from None
        # Any other HTTP answer (a proxy without /health, say) shows the server is there.
    except (urllib.error.URLError, OSError) as e:
        raise TrackingError(f"MLflow tracking server {mask(store.uri)} is unreachable "
                            f"({getattr(e, 'reason', e)}); start it or set MLFLOW_TRACKING_URI") from None


def _check_database(uri: str) -> None:
    """A TCP connect to the database's host:port; a unix-socket URI (no host) is left to the driver."""
    parts = urllib.parse.urlsplit(uri)
    host, port = parts.hostname, parts.port  # a port that is not a number: refused by check()
    if not host:
        return
    port = port or DB_PORTS[parts.scheme.split("+")[0].lower()]
    try:
        socket.create_connection((host, port), timeout=DB_TIMEOUT_S).close()
    except OSError as e:
        reason = "no answer" if isinstance(e, socket.timeout) else (e.strerror or str(e))
        raise TrackingError(f"MLflow tracking store {mask(uri)} is unreachable: cannot connect to {host}:{port} "
                            f"within {DB_TIMEOUT_S} s ({reason}); start the database or set "
                            f"MLFLOW_TRACKING_URI") from None


def _check_sqlite(path: Path) -> None:
    """sqlite writes the file and a journal beside it: both the file and its folder must be writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # MLflow creates the folder too
    except OSError as e:
        raise TrackingError(f"MLflow store {path}: cannot create its folder ({e.strerror})") from None
    try:
        tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}-probe-").close()
    except OSError as e:
        raise TrackingError(f"MLflow store {path}: its folder is read-only ({e.strerror}); sqlite writes a journal "
                            f"beside the file; set MLFLOW_TRACKING_URI to a store you can write") from None
    if path.exists():
        try:
            os.close(os.open(path, os.O_RDWR))
        except OSError as e:
            raise TrackingError(f"MLflow store {path} is read-only ({e.strerror}); make it writable or set "
                                f"MLFLOW_TRACKING_URI to a store you can write") from None


def require_existing_store(uri: str) -> None:
    """A sqlite store the user named must exist: MLflow would silently create an empty one (a typo shows no runs)."""
    path = split_credentials(uri).sqlite_path
    if path is not None and not path.is_file():
        raise TrackingError(f"no MLflow store at {path} (--tracking-uri {mask(uri)}): check the path, or create it "
                            f"by training first (make demo, stance train)")


def resolve_uri(uri: str | None) -> str:
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI




def _quiet() -> None:
    """MLflow's INFO lines (creating tables, validating the input example) and its artifact progress bars are
    noise on a normal run; the project's own progress lines stay. `--verbose` (STANCE_VERBOSE=1) keeps them."""
    import logging

    if verbose():
        return
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def configure(uri: str | None) -> str:
    """Point MLflow at the store and return its URI (without credentials). The store must answer within
    seconds (server, database) or be writable (sqlite), else one TrackingError line, not minutes of retries."""
    _quiet()
    store = split_credentials(resolve_uri(uri))
    if store.username is None:
        _withdraw_credentials()  # before the check, which would send them
    check(store)
    if store.username is not None:
        # MLflow takes basic-auth credentials from these variables, never from the URI (which it would log).
        _EXPORTED.update(MLFLOW_TRACKING_USERNAME=store.username, MLFLOW_TRACKING_PASSWORD=store.password or "")
        os.environ.update(_EXPORTED)
    if store.sqlite_path is not None:
        _create_sqlite_store(store.uri, store.sqlite_path)
    mlflow.set_tracking_uri(store.uri)
    return store.uri


_EXPORTED: dict[str, str] = {}  # credential variables this process set from a URI


def _withdraw_credentials() -> None:
    """Credentials exported for an earlier URI were not meant for a store whose URI has none."""
    for var, value in list(_EXPORTED.items()):
        if os.environ.get(var) == value:
            del os.environ[var]
        del _EXPORTED[var]


def current_uri() -> str:
    """The store MLflow writes to now (credentials are never part of it)."""
    return mlflow.get_tracking_uri()


_SQLITE_READY: set[str] = set()
SQLITE_LOCK_WAIT_S = 120


def _create_sqlite_store(uri: str, path: Path) -> None:
    """Create (or migrate) a sqlite store under a file lock, once per process: two processes migrating a fresh
    store at once break MLflow's migration ("duplicate column name: step")."""
    key = str(path.resolve())  # a relative sqlite:///mlflow.db is another file after a chdir
    if key in _SQLITE_READY:
        return
    from filelock import FileLock, Timeout

    lock = Path(f"{path}.lock")
    try:
        with FileLock(lock, timeout=SQLITE_LOCK_WAIT_S):
            mlflow.MlflowClient(uri).search_experiments(max_results=1)  # builds the schema while we hold the lock
    except Timeout:
        raise TrackingError(f"MLflow store {path}: another process held {lock} for {SQLITE_LOCK_WAIT_S} s "
                            f"(creating the store); try again") from None
    except PermissionError as e:
        raise TrackingError(f"MLflow store {path}: its folder is read-only ({e.strerror}); sqlite needs to write "
                            f"beside the file; set MLFLOW_TRACKING_URI to a store you can write") from None
    _SQLITE_READY.add(key)
