"""`models:/NAME/N`, `models:/NAME/latest` and `models:/NAME@ALIAS` answered from a local sqlite MLflow store
with the standard library alone: importing MLflow and its SQLAlchemy store is 1.8-2.0 s of a one-off
`stance predict` that needs one row of one table.

The same rows MLflow's registry reads (mlflow/store/model_registry/sqlalchemy_store.py): versions in the
default workspace that are not deleted (stage `Deleted_Internal`), `latest` as the highest version number
(tracking.registry.resolve_model_uri's rule), an alias through `registered_model_aliases`, and the files at the
version's `storage_location`, else its `source` (get_model_version_download_uri). Whenever this module cannot
be sure (another kind of store, MLFLOW_REGISTRY_URI or a workspace set, an unknown name, a stage, an artifact
location that is not a local folder, a schema it does not know) it answers None and MLflow is asked, so MLflow's
own errors and every other case stay as they were.
"""
from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import urllib.parse
from pathlib import Path

DEFAULT_URI = "sqlite:///mlflow.db"  # tracking.store.DEFAULT_URI (tests/test_cold_start.py holds them equal)
DELETED_STAGE = "Deleted_Internal"  # MLflow's STAGE_DELETED_INTERNAL
_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:/(?P<version>\d+|latest)|@(?P<alias>[^/]+))")
# Variables under which MLflow reads the registry from elsewhere, or another workspace's rows.
_ELSEWHERE = ("MLFLOW_REGISTRY_URI", "MLFLOW_WORKSPACE", "MLFLOW_ENABLE_WORKSPACES")


def store_file() -> Path | None:
    """The sqlite file tracking.configure(None) would use, when it is a plain local file that exists."""
    if any(os.environ.get(v) for v in _ELSEWHERE):
        return None
    uri = os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
    if not uri.startswith("sqlite:///") or "?" in uri:
        return None
    path = Path(uri[len("sqlite:///"):])
    return path if str(path) not in ("", ":memory:") and path.is_file() else None


def lookup(uri: str) -> tuple[str, str] | None:
    """("NAME/VERSION", where its files are: a local path) for a registry reference, or None when MLflow must
    answer. The path is returned whether or not it still exists (refs.py says when the files are missing)."""
    match, db = _URI.fullmatch(uri), store_file()
    if match is None or db is None:
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as con:
            row = _version_row(con, match["name"], match["version"], match["alias"])
    except sqlite3.Error:
        return None  # locked, corrupt, or a schema this module does not know: MLflow says what is wrong
    if row is None:
        return None
    version, storage, source = row
    folder = _local_path(storage or source)
    return (f"{match['name']}/{version}", folder) if folder else None


def _version_row(con: sqlite3.Connection, name: str, version: str | None, alias: str | None):
    workspace = "workspace = 'default' AND " if _has_column(con, "model_versions", "workspace") else ""
    if alias is not None:
        found = con.execute(f"SELECT version FROM registered_model_aliases WHERE {workspace}name = ? AND alias = ?",
                            (name, alias)).fetchone()
        if found is None:
            return None
        version = str(found[0])
    pick = "version = ?" if version != "latest" else "version = (SELECT MAX(version) FROM model_versions WHERE " \
                                                      f"{workspace}name = ? AND current_stage != ?)"
    args = (int(version),) if version != "latest" else (name, DELETED_STAGE)
    return con.execute(f"SELECT version, storage_location, source FROM model_versions WHERE {workspace}name = ? AND "
                       f"current_stage != ? AND {pick}", (name, DELETED_STAGE, *args)).fetchone()


def _has_column(con: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in con.execute(f"PRAGMA table_info({table})"))


def _local_path(location: str | None) -> str | None:
    """An absolute local folder (a plain path or file:// URI); None for anything MLflow must fetch."""
    if not location:
        return None
    parts = urllib.parse.urlsplit(location)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        location = urllib.parse.unquote(parts.path)
    elif parts.scheme:
        return None
    return location if os.path.isabs(location) else None
