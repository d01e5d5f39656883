"""robots.txt as RFC 9309 (the Robots Exclusion Protocol) defines it, plus the Crawl-delay extension.

``RobotsRules.parse(content)`` reads a robots.txt body; ``rules.allows(token, url)`` and
``rules.crawl_delay(token)`` answer for one crawler, named by its product token ("SupportAI-
KnowledgeBot"; a whole User-Agent string is reduced to it). What the standard library's
``urllib.robotparser`` gets wrong and this module does as the RFC says:

- groups: several ``User-agent`` lines share the rules that follow them; every group naming our
  product token (compared case-insensitively, never as a substring) is merged into one; the ``*``
  groups apply only when none names us;
- rules: ``*`` matches any run of characters and a final ``$`` anchors the end; the longest matching
  pattern wins and ``Allow`` wins a tie; an empty ``Disallow`` is no rule; the path compared includes
  the query string; ``/robots.txt`` itself is always allowed;
- paths on both sides are normalised before comparing (§2.2.2): non-ASCII is UTF-8 percent-encoded,
  escapes of unreserved characters are decoded, other escapes keep their octet (``%3F`` is not ``?``),
  and a ``*`` or ``$`` in a URL compares equal to the ``%2A`` / ``%24`` that names it in a pattern;
- the file: a UTF-8 BOM, CR / LF / CRLF line ends, comments and invalid lines are tolerated; only the
  first ``MAX_PARSE_BYTES`` (500 KiB, §2.5) are read, and a line cut by that limit is dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_PARSE_BYTES = 500 * 1024
ROBOTS_PATH = "/robots.txt"
ANY_AGENT = "*"

_LINE_END = re.compile(r"\r\n|\r|\n")
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")
_GROUP_MEMBERS = frozenset({"allow", "disallow", "crawl-delay"})
_HEX = frozenset("0123456789abcdefABCDEF")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 reserved characters are compared as they are written; everything else is escaped.
_RESERVED = frozenset(":/?#[]@!$&'()*+,;=")


def product_token(user_agent: str) -> str:
    """The product token a robots.txt group names: the leading letters, ``_`` and ``-`` of a
    User-Agent string ("SupportAI-KnowledgeBot/1.0 (...)" → "SupportAI-KnowledgeBot")."""
    found = _PRODUCT_TOKEN.match(user_agent.strip())
    return found.group() if found else ""


def normalise_path(path: str, *, pattern: bool = False) -> str:
    """``path`` in the one form both sides are compared in (RFC 9309 §2.2.2, §2.2.3).

    In a URL (``pattern=False``) ``*`` and ``$`` are data and become ``%2A`` / ``%24``; in a pattern
    ``*`` stays a wildcard and a final ``$`` the end anchor, while a ``$`` elsewhere is data.
    """
    out: list[str] = []
    i, end = 0, len(path)
    while i < end:
        char, escape = path[i], path[i + 1 : i + 3]
        if char == "%" and len(escape) == 2 and set(escape) <= _HEX:
            octet = int(escape, 16)
            out.append(chr(octet) if chr(octet) in _UNRESERVED else f"%{octet:02X}")
            i += 3
            continue
        if char == "*":
            out.append("*" if pattern else "%2A")
        elif char == "$":
            out.append("$" if pattern and i == end - 1 else "%24")
        elif char in _UNRESERVED or char in _RESERVED:
            out.append(char)
        else:  # non-ASCII, controls, space, '"<>\^`{|}' and a '%' that starts no escape
            out.append("".join(f"%{octet:02X}" for octet in char.encode("utf-8", errors="replace")))
        i += 1
    return "".join(out)


def _url_path(url_or_path: str) -> str:
    """The path and query of a URL (or of a path given alone), without the fragment; "/" if empty."""
    if url_or_path.startswith("/") and not url_or_path.startswith("//"):
        path = url_or_path.split("#", 1)[0]
    else:
        parts = urlsplit(url_or_path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") else "/" + path


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str  # normalised: "*" is a wildcard, a final "$" the end anchor

    def matches(self, path: str) -> bool:
        """Whether the pattern matches a prefix of the normalised ``path`` (all of it when anchored).

        Leftmost matching of each literal piece between wildcards is enough for ``*``-only globs,
        and keeps a hostile pattern linear instead of backtracking like a regular expression.
        """
        anchored = self.pattern.endswith("$")
        pieces = (self.pattern[:-1] if anchored else self.pattern).split("*")
        first, rest = pieces[0], pieces[1:]
        if not path.startswith(first):
            return False
        if not rest:
            return not anchored or path == first
        position = len(first)
        for piece in rest[:-1]:
            found = path.find(piece, position)
            if found < 0:
                return False
            position = found + len(piece)
        last = rest[-1]
        if anchored:
            return len(path) - len(last) >= position and path.endswith(last)
        return path.find(last, position) >= 0


@dataclass(frozen=True)
class Group:
    """The merged rules of every group naming one agent, most specific first (Allow first on a tie)."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None

    def allows(self, path: str) -> bool:
        return next((rule.allow for rule in self.rules if rule.matches(path)), True)


@dataclass
class _GroupBuilder:
    rules: list[Rule] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)

    def build(self) -> Group:
        rules = sorted(self.rules, key=lambda rule: (-len(rule.pattern), not rule.allow))
        # Several Crawl-delay lines for us (merged groups): the most patient one is honoured.
        return Group(tuple(rules), max(self.delays) if self.delays else None)


def _crawl_delay(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _agent(value: str) -> str:
    """The product token a ``User-agent`` value names, lower-cased; ``*`` for any; "" for none."""
    if value == ANY_AGENT or (value.startswith(ANY_AGENT) and value[1].isspace()):
        return ANY_AGENT
    return product_token(value).lower()


def _lines(content: str | bytes) -> list[str]:
    data = content.encode("utf-8", errors="replace") if isinstance(content, str) else content
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if len(data) > MAX_PARSE_BYTES:
        data = data[:MAX_PARSE_BYTES]
        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
        data = data[: cut + 1]  # a line cut in half could mean anything: it is dropped
    return _LINE_END.split(data.decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class RobotsRules:
    """A parsed robots.txt: one merged ``Group`` per agent named, ``*`` included when present."""

    groups: Mapping[str, Group] = field(default_factory=dict)

    @classmethod
    def parse(cls, content: str | bytes) -> RobotsRules:
        """Parse a robots.txt body (bytes are read as UTF-8). Never raises: what is unreadable is skipped."""
        builders: dict[str, _GroupBuilder] = {}
        agents: list[str] = []  # the agents of the group being read
        in_rules = False  # a rule line was seen: the next User-agent line starts a new group
        for line in _lines(content):
            key, colon, value = line.split("#", 1)[0].partition(":")
            if not colon:
                continue  # not a record
            key, value = key.strip().lower(), value.strip()
            if key == "user-agent":
                if in_rules:
                    agents, in_rules = [], False
                agent = _agent(value)
                if agent and agent not in agents:
                    agents.append(agent)
                    builders.setdefault(agent, _GroupBuilder())
            elif key in _GROUP_MEMBERS and agents:
                in_rules = True
                targets = [builders[agent] for agent in agents]
                if key == "crawl-delay":
                    delay = _crawl_delay(value)
                    if delay is not None:
                        for builder in targets:
                            builder.delays.append(delay)
                elif value:  # an empty Allow / Disallow is no rule
                    rule = Rule(key == "allow", normalise_path(value, pattern=True))
                    for builder in targets:
                        builder.rules.append(rule)
            # Sitemap, unknown records and rules outside any group change nothing (§2.2.4).
        return cls({agent: builder.build() for agent, builder in builders.items()})

    def group_for(self, user_agent: str) -> Group:
        """The group that applies to ``user_agent``: its own, else ``*``'s, else no rules at all."""
        token = product_token(user_agent).lower()
        if token and token in self.groups:
            return self.groups[token]
        return self.groups.get(ANY_AGENT, Group())

    def allows(self, user_agent: str, url_or_path: str) -> bool:
        """Whether ``user_agent`` (a product token or a whole User-Agent string) may fetch the URL."""
        path = _url_path(url_or_path)
        if path == ROBOTS_PATH:
            return True
        return self.group_for(user_agent).allows(normalise_path(path))

    def crawl_delay(self, user_agent: str) -> float | None:
        """Seconds to wait between requests from the group that applies to ``user_agent``, if it says."""
        return self.group_for(user_agent).crawl_delay
