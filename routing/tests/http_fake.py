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
    """OpenAI's checks of a Chat Completions request (a body with ``messages``) to a reasoning model (GPT-5 and
    GPT-6 families, o-series), whose ``reasoning_effort`` defaults to ``medium``: ``max_tokens`` is refused
    (``max_completion_tokens`` replaces it), and unless the effort is ``none``, so are ``temperature`` and
    ``logprobs`` and, in Chat Completions, function tools (the deployment checklist,
    https://developers.openai.com/api/docs/guides/deployment-checklist; the function-tools wording as the API
    gave it for gpt-5.6-luna, the others paraphrased). None: the request passes."""
    model = str(body.get("model", ""))
    if "messages" not in body or not _OPENAI_REASONING.match(model):
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


def _openai_invalid(message: str, param: str, code: str | None = None) -> Reply:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return json_reply(400, {"error": error})


@dataclass
class OutputItem:
    """One output item of a Responses API answer: the item as ``response.output_item.done`` carries it, and the
    events streamed between its ``added`` and ``done`` (text or argument deltas)."""

    item: dict[str, Any]
    between: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    added: dict[str, Any] = field(default_factory=dict)  # the item as ``response.output_item.added`` shows it


def responses_text(*pieces: str, item_id: str = "msg_1") -> OutputItem:
    """An assistant message whose text streams in ``pieces`` (``response.output_text.delta`` each)."""
    part = {"type": "output_text", "text": "".join(pieces), "annotations": [], "logprobs": []}
    item = {"id": item_id, "type": "message", "role": "assistant", "status": "completed", "content": [part]}
    empty = {**part, "text": ""}
    between = [("response.content_part.added", {"item_id": item_id, "content_index": 0, "part": empty})]
    between += [
        ("response.output_text.delta", {"item_id": item_id, "content_index": 0, "delta": piece, "logprobs": []})
        for piece in pieces
    ]
    between += [
        ("response.output_text.done", {"item_id": item_id, "content_index": 0, "text": part["text"], "logprobs": []}),
        ("response.content_part.done", {"item_id": item_id, "content_index": 0, "part": part}),
    ]
    return OutputItem(item, between, {**item, "status": "in_progress", "content": []})


def responses_call(call_id: str, name: str, arguments: dict[str, Any], item_id: str = "fc_1") -> OutputItem:
    """A function call whose arguments stream in two ``response.function_call_arguments.delta`` events."""
    text = json.dumps(arguments)
    item = {"id": item_id, "type": "function_call", "status": "completed", "call_id": call_id, "name": name,
            "arguments": text}  # fmt: skip
    half = len(text) // 2
    between = [
        ("response.function_call_arguments.delta", {"item_id": item_id, "delta": text[:half]}),
        ("response.function_call_arguments.delta", {"item_id": item_id, "delta": text[half:]}),
        ("response.function_call_arguments.done", {"item_id": item_id, "arguments": text}),
    ]
    return OutputItem(item, between, {**item, "status": "in_progress", "arguments": ""})


def responses_reasoning(item_id: str = "rs_1", encrypted: str = "gAAAAB-fake-reasoning") -> OutputItem:
    """A reasoning item; its ``encrypted_content`` (asked for with ``include``) is whole only once it is done."""
    item = {"id": item_id, "type": "reasoning", "summary": [], "encrypted_content": encrypted, "status": "completed"}
    return OutputItem(item, added={**item, "encrypted_content": None, "status": "in_progress"})


def responses_usage(input_tokens: int, output_tokens: int, *, cached: int = 0, written: int = 0,
                    reasoning: int = 0) -> dict[str, Any]:  # fmt: skip
    """The Responses API's ``usage``: ``input_tokens`` counts cache reads and writes, ``output_tokens`` the
    reasoning tokens."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def _response(model: str, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "resp_fake_1", "object": "response", "created_at": 1765000000, "status": status, "model": model,
        "output": output, "usage": usage, "error": None, "incomplete_details": None, "instructions": None,
        "metadata": {}, "parallel_tool_calls": True, "temperature": 1.0, "top_p": 1.0, "tool_choice": "auto",
        "tools": [], "store": False,
    }  # fmt: skip


def responses_events(
    *items: OutputItem,
    usage: dict[str, Any] | None = None,
    model: str = "gpt-6.1-sol",
    incomplete: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """A Responses API stream as the API sends it (named events, each with its ``type`` and ``sequence_number``):
    ``response.created``, ``response.in_progress``, each item from ``added`` to ``done``, then
    ``response.completed`` with the usage, or ``response.incomplete`` with ``incomplete`` as its reason. Slice
    the list to cut the stream."""
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": _response(model, "in_progress", [], None)}),
        ("response.in_progress", {"response": _response(model, "in_progress", [], None)}),
    ]
    for index, out in enumerate(items):
        events.append(("response.output_item.added", {"output_index": index, "item": out.added or out.item}))
        events += [(name, {"output_index": index, **data}) for name, data in out.between]
        events.append(("response.output_item.done", {"output_index": index, "item": out.item}))
    final = _response(model, "incomplete" if incomplete else "completed", [out.item for out in items], usage)
    if incomplete:
        final["incomplete_details"] = {"reason": incomplete}
    events.append(("response.incomplete" if incomplete else "response.completed", {"response": final}))
    return _numbered(events)


def responses_failed(code: str, message: str, model: str = "gpt-6.1-sol") -> list[tuple[str, dict[str, Any]]]:
    """A stream that starts, then fails (``response.failed``, its ``error`` as the API words one)."""
    failed = {**_response(model, "failed", [], None), "error": {"code": code, "message": message}}
    return _numbered([("response.created", {"response": _response(model, "in_progress", [], None)}),
                      ("response.failed", {"response": failed})])  # fmt: skip


def responses_error(code: str | None, message: str) -> tuple[str, dict[str, Any]]:
    """An ``error`` event inside a stream (``code`` may be null)."""
    return ("error", {"type": "error", "code": code, "message": message, "param": None, "sequence_number": 99})


def _numbered(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, {"type": name, "sequence_number": n, **data}) for n, (name, data) in enumerate(events)]


def openai_responses_rule(body: dict[str, Any]) -> Reply | None:
    """OpenAI's checks of a Responses API request (a body with ``input``), as far as our requests can meet them:
    ``max_output_tokens`` below 16; a temperature or top_p to a reasoning model not at effort ``none``; a function
    tool that is strict (the default) with a schema that does not forbid other properties; and, in ``input``, a
    reasoning item without its ``encrypted_content`` when nothing is stored, a reasoning item not followed by the
    item it preceded, a function call sent with its item ID but without a reasoning item before its run of calls,
    and a function call output whose call is not in the input. The first two and the reasoning-item messages are
    worded as the API gave them (quoted in issue threads); the others paraphrased. None: the request passes."""
    if "input" not in body:
        return None
    model = str(body.get("model", ""))
    limit = body.get("max_output_tokens")
    if isinstance(limit, int) and limit < 16:
        return _openai_invalid(
            f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got {limit} "
            "instead.",
            "max_output_tokens",
            code="integer_below_min_value",
        )
    effort = (body.get("reasoning") or {}).get("effort", "medium")
    if _OPENAI_REASONING.match(model) and effort != "none":
        for param in ("temperature", "top_p"):
            if param in body:
                return _openai_invalid(f"Unsupported parameter: '{param}' is not supported with this model.", param)
    for tool in body.get("tools") or ():
        schema = tool.get("parameters") or {}
        if tool.get("strict", True) and schema.get("additionalProperties") is not False:
            return _openai_invalid(
                f"Invalid schema for function '{tool.get('name')}': In context=(), 'additionalProperties' is required "
                "to be supplied and to be false.",
                "tools[0].parameters",
                code="invalid_function_parameters",
            )
    return _responses_input_rule(body.get("input") or [], stored=body.get("store", True) is not False)


def _responses_input_rule(items: list[Any], *, stored: bool) -> Reply | None:
    calls: set[str] = set()
    reasoned = False  # a reasoning item since the last message or call output, for the run of calls after it
    for position, item in enumerate(items):
        kind = item.get("type", "message") if isinstance(item, dict) else "message"
        if kind == "reasoning":
            if not stored and not item.get("encrypted_content"):
                return _openai_invalid(
                    f"Item with id '{item.get('id')}' not found. Items are not persisted when `store` is set to false. "
                    "Try again with `store` set to true, or remove this item from your input.",
                    "input",
                )
            following: dict[str, Any] = next((i for i in items[position + 1 :] if i.get("type") != "reasoning"), {})
            if not (following.get("type") == "function_call" or following.get("role") == "assistant"):
                return _openai_invalid(
                    f"Item '{item.get('id')}' of type 'reasoning' was provided without its required following item.",
                    "input",
                )
            reasoned = True
        elif kind == "function_call":
            calls.add(str(item.get("call_id")))
            if item.get("id") and not reasoned:
                return _openai_invalid(
                    f"Item '{item['id']}' of type 'function_call' was provided without its required 'reasoning' item.",
                    "input",
                )
        elif kind == "function_call_output":
            if item.get("call_id") not in calls:
                return _openai_invalid(
                    f"No tool call found for function call output with call_id {item.get('call_id')}.", "input"
                )
            reasoned = False
        elif item.get("role") != "assistant":
            reasoned = False
    return None


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
