"""HTTP fallbacks for clients without websockets: a whole-answer endpoint and an SSE stream.

Both take ``POST`` JSON ``{"key", "client_id", "text", "resume_token"?, "identity_token"?}`` and apply the same
validation, origin check, rate limits and ``client_id`` idempotency as the websocket
(``chat/public_http.py``, ``chat/public_turn.py``), and write their errors in the customer's language as it
does (``chat/public_language.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from chat.protocol import ErrorCode, ProtocolError, error_frame
from chat.public_http import STATUS_FOR_CODE, error_response, method_not_allowed, preflight_response
from chat.public_turn import prepare_turn, turn_frames
from supportai.db import db_call

HEARTBEAT_SECONDS = 15.0


@csrf_exempt
async def post_message(request: HttpRequest) -> HttpResponse:
    """``POST /api/v1/public/chat/messages`` → the whole answer as one JSON object."""
    if request.method == "OPTIONS":
        return preflight_response(request)
    if request.method != "POST":
        return method_not_allowed(request)
    try:
        turn = await db_call(prepare_turn)(request)
    except ProtocolError as exc:
        return error_response(exc.code, exc.message, request.headers.get("Origin", ""), field=exc.field)
    ack: dict[str, Any] = {}
    answer: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    async for frame in turn_frames(turn):
        if frame["type"] == "message.ack":
            ack = frame
        elif frame["type"] == "message.end":
            answer = frame
        elif frame["type"] == "error":
            error = frame
    if error is not None:  # refused, or the turn failed: no traceback (a failed turn's resend is answered)
        code = ErrorCode(error["code"])
        body = error_frame(code, error["message"], field=error.get("field", ""))
        # the conversation (a first message opened it), so that a resend reaches it and is answered once
        body |= {"conversation_id": turn.conversation.pk, "resume_token": turn.resume_token}
        response = JsonResponse(body, status=STATUS_FOR_CODE[code])
    else:
        response = JsonResponse(
            {
                "conversation_id": ack["conversation_id"],
                "resume_token": ack["resume_token"],
                "message_id": ack["message_id"],
                "answer": answer,
            },
            status=200 if answer is not None else 202,
        )
    if turn.origin:
        response["Access-Control-Allow-Origin"] = turn.origin
        response["Vary"] = "Origin"
    return response


def _sse(frame: dict[str, Any]) -> bytes:
    return f"event: {frame['type']}\ndata: {json.dumps(frame)}\n\n".encode()


async def _with_heartbeats(frames: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    iterator = frames.__aiter__()
    pending: asyncio.Task[dict[str, Any]] | None = None
    try:
        while True:
            pending = pending or asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
            if not done:
                yield b": keep-alive\n\n"
                continue
            try:
                frame = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield _sse(frame)
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


@csrf_exempt
async def stream_message(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """``POST /api/v1/public/chat/messages/stream`` → Server-Sent Events with the websocket's frames."""
    if request.method == "OPTIONS":
        return preflight_response(request)
    if request.method != "POST":
        return method_not_allowed(request)
    try:
        turn = await db_call(prepare_turn)(request)
    except ProtocolError as exc:
        return error_response(exc.code, exc.message, request.headers.get("Origin", ""), field=exc.field)
    response = StreamingHttpResponse(_with_heartbeats(turn_frames(turn)), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    if turn.origin:
        response["Access-Control-Allow-Origin"] = turn.origin
        response["Vary"] = "Origin"
    return response
