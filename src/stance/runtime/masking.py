"""One rule for secrets in anything that leaves the process: params, tags, run names, logged config, messages.

A value under a secret-looking key (api_token, password, db_secret, apiKey, ...) becomes `***`; anywhere
else, a password inside a URI (`postgresql://bob:pw@db/x`, `http://alice:pw@host`) and a secret-looking
query parameter (`?password=pw`, `&token=t`) are masked, so `bob:***@db` still says which account was used.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"
# A key is secret when one of its words is one of these (api_key, apiKey, AWS_SECRET_ACCESS_KEY, auth) ...
_SECRET_WORDS = {"password", "passwd", "passphrase", "token", "secret", "key", "apikey", "credential",
                 "credentials", "auth", "authorization", "cookie"}
# ... or ends with one of these (accesstoken, dbpassword, clientsecret; not monkey or tokens).
_SECRET_ENDINGS = ("password", "passwd", "token", "secret", "apikey", "credential", "credentials")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# user:password@ inside a URI; the user stays visible.
_URI_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^/:@\s]*:)[^@/\s]+@")
# ?password=...&token=... in a URI query (libpq and SQLAlchemy accept credentials there too).
_QUERY_SECRET = re.compile(r"([?&;]([^=&;\s#]+)=)([^&;\s#]*)")


def is_secret_key(key: object) -> bool:
    """Whether a key (a config path like `tracking.tags.api_token`, a tag or env name) names a secret."""
    last = str(key).rsplit(".", 1)[-1]
    words = [w.lower() for w in _WORD.findall(last)]
    return any(w in _SECRET_WORDS or w.endswith(_SECRET_ENDINGS) for w in words)


def mask(value: Any, key: object = None) -> str:
    """The value as text that is safe to show or log: everything under a secret key, URI passwords otherwise."""
    if key is not None and is_secret_key(key):
        return MASK
    text = str(value)
    text = _URI_PASSWORD.sub(rf"\1{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK if is_secret_key(m.group(2)) else m.group(0), text)


def mask_tree(tree: Any, key: object = None) -> Any:
    """A nested config (dicts, lists, scalars) with `mask` applied to every leaf; non-string leaves that are
    not secret keep their type, so the masked tree still loads as the same config."""
    if key is not None and is_secret_key(key):
        return MASK
    if isinstance(tree, dict):
        return {k: mask_tree(v, k) for k, v in tree.items()}
    if isinstance(tree, list):
        return [mask_tree(v) for v in tree]
    return mask(tree) if isinstance(tree, str) else tree
