"""A local HTTP server that plays a vendor: scripted status, headers, SSE body, delays and cuts.

The official SDKs here use ``httpx2`` (respx only patches ``httpx``), so adapter tests point the SDK's
``base_url`` at this server instead: the SDK's real HTTP stack parses the vendor's real wire format.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: list[bytes] = field(default_factory=list)  # written in order, flushed each
    content_type: str = "text/event-stream"
    delay_s: float = 0.0  # before the headers (a timeout test)
    cut: bool = False  # drop the connection mid-body, without ending the chunked stream
    pause_s: float = 0.0  # between body pieces (a vendor writing slowly, or stalled mid-answer)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def sse(events: Iterable[tuple[Any, Any]]) -> list[bytes]:
    """Server-sent events; ``None`` as the name writes a data-only event (OpenAI, Gemini)."""
    out = []
    for name, data in events:
        prefix = f"event: {name}\n" if name else ""
        out.append(f"{prefix}data: {json.dumps(data)}\n\n".encode())
    return out


def gemini_chunk(
    parts: list[dict[str, Any]],
    finish: str | None = None,
    usage: dict[str, int] | None = None,
    model: str = "gemini-3.5-flash-lite",
) -> tuple[None, dict[str, Any]]:
    """One ``streamGenerateContent`` SSE event: a candidate with ``parts``; ``usage`` is ``usageMetadata``
    (``thoughtsTokenCount`` is billed as output but not part of ``candidatesTokenCount``)."""
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
    if usage:
        body["usageMetadata"] = usage
    return (None, body)


def gemini_thought(text: str, signature: str | None = None) -> dict[str, Any]:
    """A thought-summary part (``"thought": true``), never for the customer; ``signature`` is base64."""
    part: dict[str, Any] = {"text": text, "thought": True}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def gemini_call(name: str, args: dict[str, Any], signature: str | None = None) -> dict[str, Any]:
    """A ``functionCall`` part; Gemini 3 models sign it (``thoughtSignature``, base64) and require the
    signature back with the call in the next request."""
    part: dict[str, Any] = {"functionCall": {"name": name, "args": args}}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def json_reply(status: int, payload: dict[str, Any]) -> Reply:
    return Reply(status=status, body=[json.dumps(payload).encode()], content_type="application/json")


_CLAUDE_GENERATION = re.compile(r"claude-(?:[a-z]+-)?(\d+)(?:-|$)")
_THINKING_TYPES = ("thinking", "redacted_thinking")


def claude_thinking_rule(body: dict[str, Any]) -> Reply | None:
    """Anthropic's check of a tool round on a model that thinks (Claude 5 on, thinking always available):
    the last assistant message holding ``tool_use`` blocks must start with the thinking blocks the model wrote
    before them, each whole (a ``thinking`` block with its ``thinking`` text and ``signature``, a
    ``redacted_thinking`` block with its ``data``). Anything else answers the vendor's 400, word for word as
    the API words it (see docs/routing.md). None: the request passes."""
    match = _CLAUDE_GENERATION.match(str(body.get("model", "")))
    if match is None or int(match.group(1)) < 5:
        return None
    messages = body.get("messages") or []
    rounds = [
        (i, m["content"])
        for i, m in enumerate(messages)
        if m.get("role") == "assistant"
        and isinstance(m.get("content"), list)
        and any(block.get("type") == "tool_use" for block in m["content"])
    ]
    if not rounds:
        return None
    index, content = rounds[-1]
    first = content[0].get("type")
    if first not in _THINKING_TYPES:
        return _invalid_request(
            f"messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. "
            "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
            "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
            "thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult "
            "our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        )
    for position, block in enumerate(content):
        kind = block.get("type")
        whole = (
            (kind == "thinking" and isinstance(block.get("thinking"), str) and bool(block.get("signature")))
            or (kind == "redacted_thinking" and bool(block.get("data")))
            or kind not in _THINKING_TYPES
        )
        if not whole:
            return _invalid_request(f"messages.{index}.content.{position}: Invalid `signature` in `{kind}` block")
    return None


def _invalid_request(message: str) -> Reply:
    error = {"type": "invalid_request_error", "message": message}
    return json_reply(400, {"type": "error", "error": error, "request_id": "req_fake_0001"})


_OPENAI_REASONING = re.compile(r"(?:gpt-[56]|o\d)")


def openai_reasoning_rule(body: dict[str, Any]) -> Reply | None:
    """OpenAI's checks of a Chat Completions request to a reasoning model (GPT-5 and GPT-6 families, o-series),
    whose ``reasoning_effort`` defaults to ``medium``: ``max_tokens`` is refused (``max_completion_tokens``
    replaces it), and unless the effort is ``none``, so are ``temperature`` and ``logprobs`` and, in Chat
    Completions, function tools (the deployment checklist, https://developers.openai.com/api/docs/guides/
    deployment-checklist; the function-tools wording as the API gave it for gpt-5.6-luna, the others
    paraphrased). None: the request passes."""
    model = str(body.get("model", ""))
    if not _OPENAI_REASONING.match(model):
        return None
    if "max_tokens" in body:
        return _openai_invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' "
            "instead.",
            "max_tokens",
        )
    if body.get("reasoning_effort", "medium") == "none":
        return None
    for param in ("temperature", "logprobs"):
        if param in body:
            return _openai_invalid(f"Unsupported parameter: '{param}' is not supported with this model.", param)
    if body.get("tools"):
        return _openai_invalid(
            f"Function tools with reasoning_effort are not supported for {model} in /v1/chat/completions. To use "
            "function tools, use /v1/responses or set reasoning_effort to 'none'.",
            "reasoning_effort",
        )
    return None


def _openai_invalid(message: str, param: str) -> Reply:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    return json_reply(400, {"error": error})


class FakeVendor:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        # Replies for requests whose path (before any "?") ends with the key, ahead of ``replies``: for
        # requests sent concurrently, whose order of arrival is not fixed.
        self.replies_for: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        # Checks a real vendor makes before answering (e.g. ``claude_thinking_rule``): a check that returns a
        # ``Reply`` answers the request with it instead of the scripted reply.
        self.rules: list[Callable[[dict[str, Any]], Reply | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                body = json.loads(raw or b"{}")
                fake.seen.append(Seen("POST", self.path, headers, body))
                path = self.path.split("?")[0]
                refused = next((reply for rule in fake.rules if (reply := rule(body)) is not None), None)
                scripted = next((r for end, r in fake.replies_for.items() if r and path.endswith(end)), fake.replies)
                if refused is not None:
                    reply = refused
                else:
                    reply = scripted.pop(0) if scripted else json_reply(500, {"error": "no reply scripted"})
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for position, piece in enumerate(reply.body):
                    if position and reply.pause_s:
                        time.sleep(reply.pause_s)
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                if reply.cut:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(b"0\r\n\r\n")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients that time out or streams we cut on purpose are not errors here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeVendor:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve() -> Iterator[FakeVendor]:
    with FakeVendor() as vendor:
        yield vendor
