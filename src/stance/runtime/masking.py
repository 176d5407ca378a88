"""One rule for secrets in anything that leaves the process: params, tags, run names, logged config, messages.

A value under a secret-looking key (api_token, password, db_pwd, sas_sig, bearer, apiKey, ...) becomes `***`;
anywhere else, a password inside a URI (`postgresql://bob:pw@db/x`, `http://alice:pw@host`: everything between
the user's ':' and the last '@'), a secret-looking query parameter (`?password=pw`, `&sig=s`,
`&X-Amz-Signature=s`) and a value that looks like a credential (`Bearer t`, a JSON web token, an AWS or GitHub
key) are masked, so `bob:***@db` still says which account was used.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"
# The one rule. A key is secret when one of its words (api_key, apiKey, DB_PWD, sas_sig, X-Amz-Signature) is one
# of these ...
_SECRET_WORDS = {"pass", "password", "passwd", "passphrase", "pwd", "secret", "token", "key", "apikey", "sig",
                 "signature", "bearer", "auth", "authorization", "credential", "credentials", "cookie", "session"}
# ... or ends with one of these (accesstoken, dbpassword, clientsecret, sessionid; not monkey, tokens or bypass).
_SECRET_ENDINGS = ("password", "passwd", "pwd", "token", "secret", "apikey", "credential", "credentials",
                   "signature", "cookie", "sessionid")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# user:password@ inside a URI: everything from the first ':' after the user to the LAST '@' (a password may hold
# '@' or '/'); the user stays visible.
_URI_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^/:@\s'\"]*:)[^\s'\"<>]*@")
# ?password=...&sig=...&X-Amz-Signature=... in a URI query (libpq, SQLAlchemy and signed URLs carry them there).
_QUERY_SECRET = re.compile(r"([?&;]([^=&;\s#]+)=)([^&;\s#'\"]*)")
# Values that are credentials whatever their key: an Authorization header's scheme and token (16+ characters with a
# digit, so "basic statistics" stays), a JSON web token,
# cloud and code-host key formats, a PEM private key.
_CREDENTIAL_VALUE = re.compile(
    r"\b(?:Bearer|Basic|bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}"
    r"|\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)")


def is_secret_key(key: object) -> bool:
    """Whether a key (a config path like `tracking.tags.api_token`, a tag or env name) names a secret."""
    last = str(key).rsplit(".", 1)[-1]
    words = [w.lower() for w in _WORD.findall(last)]
    return any(w in _SECRET_WORDS or w.endswith(_SECRET_ENDINGS) for w in words)


def mask(value: Any, key: object = None) -> str:
    """The value as text that is safe to show or log: everything under a secret key, URI passwords otherwise."""
    if key is not None and is_secret_key(key):
        return MASK
    text = _CREDENTIAL_VALUE.sub(MASK, str(value))
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
