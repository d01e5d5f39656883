"""The public (widget) HTTP endpoints' paths, as the tests post to them (docs/websocket-protocol.md)."""

from __future__ import annotations

MESSAGES = "/api/v1/public/chat/messages"
STREAM = "/api/v1/public/chat/messages/stream"
ESCALATE = "/api/v1/public/chat/escalate"
CONFIRM = "/api/v1/public/chat/proposals/confirm"
REJECT = "/api/v1/public/chat/proposals/reject"
