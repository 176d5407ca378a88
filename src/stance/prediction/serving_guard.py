"""What `stance serve` puts in front of MLflow's scoring app: the checks MLflow's own server does not make.

Measured on `mlflow models serve` (issue 29): a POST with no Content-Type, or JSON nested 100,000 levels, is a
500 with a traceback in the server log; a 100 MB body is read whole (504 after 60 s, +1.5 GB resident, never
given back). Here each is one answer before MLflow sees the request: 415 for a missing or unknown Content-Type,
413 once the body passes the limit (from Content-Length at once, or while a chunked body arrives: never read
whole), 400 for JSON too deeply nested to parse. A plain ASGI wrapper, standard library only.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

ACCEPTED_TYPES = ("application/json", "text/csv")  # what MLflow's /invocations parses
ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def guard(app: ASGIApp, max_body_bytes: int) -> ASGIApp:
    """`app` behind the checks, for POST /invocations; every other request passes as it is."""

    async def guarded(scope: dict, receive, send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST" or scope.get("path") != "/invocations":
            return await app(scope, receive, send)
        try:
            body = await _checked_body(scope, receive, max_body_bytes)
        except Refused as e:
            return await _answer(send, e.status, str(e))
        chunks = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> dict:
            return chunks.pop() if chunks else await receive()  # then http.disconnect, as the server sends it

        await app(scope, replay, send)

    return guarded


async def _checked_body(scope: dict, receive, limit: int) -> bytes:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ACCEPTED_TYPES:
        given = f"Content-Type {media!r}" if media else "no Content-Type"
        raise Refused(415, f"{given}: send {' or '.join(ACCEPTED_TYPES)}")
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is {int(declared):,} bytes; this server takes at most {limit:,} bytes "
                           f"(stance serve --max-body-mb)")
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit:
            raise Refused(413, f"the body passed {limit:,} bytes; this server takes at most {limit:,} bytes "
                               f"(stance serve --max-body-mb)")
        if not message.get("more_body"):
            break
    if media == "application/json":
        _check_json(bytes(body))
    return bytes(body)


def _check_json(body: bytes) -> None:
    """Parsing is what crashed MLflow's handler; malformed JSON is left to MLflow, which answers 400 itself."""
    try:
        json.loads(body)
    except RecursionError:
        raise Refused(400, "the JSON is nested too deeply to parse; send dataframe_split or dataframe_records "
                           "rows of strings") from None
    except ValueError:
        pass


async def _answer(send, status: int, message: str) -> None:
    payload: Any = {"error_code": "BAD_REQUEST" if status == 400 else "INVALID_REQUEST", "message": message}
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
