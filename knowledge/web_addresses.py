"""Web addresses as browsers read them: hosts (``ascii_host``), links normalised to one spelling
(``normalize_url``) and a URL source's pages (``in_scope``, ``LinkScope``)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import idna

from knowledge.parsed import EXTERNAL_ID_MAX_LENGTH
from supportai.outbound import browser_url_text

# Links that are never HTML pages are not worth a request.
SKIP_SUFFIXES = (
    *(".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".json", ".xml"),
    *(".zip", ".gz", ".tgz", ".mp3", ".mp4", ".webm", ".woff", ".woff2"),
)
MAX_URL_LENGTH = EXTERNAL_ID_MAX_LENGTH  # a page's URL is its document's external id
MAX_HOST_LENGTH = 253  # DNS, without the final dot
# What the WHATWG URL parser percent-encodes in a path and in an http(s) query besides controls (a
# link written "a b" and one written "a%20b" are one address). Non-ASCII characters are left as
# written (httpx encodes them as UTF-8 on the wire): encoded, a long address in Cyrillic or Japanese
# would outgrow the 500 characters a page's address may have. The query's "'", which browsers differ
# on, is left too, as robots.txt rules write it.
_PATH_ENCODED = frozenset(' "<>`{}')
_QUERY_ENCODED = frozenset(' "<>')
_HEX_DIGITS = frozenset("0123456789ABCDEFabcdef")
_RAW_PERCENT_AND_HEX = re.compile("%[0-9A-Fa-f]?$")
_SURROGATE = re.compile("[\ud800-\udfff]")
# WHATWG's forbidden domain code points (controls and space are checked apart).
_FORBIDDEN_IN_HOST = frozenset("#%/:<>?@[\\]^|")


def ascii_host(host: str) -> str | None:
    """``host`` (as ``urlsplit`` gives it) as it is looked up and sent, so that one host is written
    one way: an IPv6 literal as written; a name lower-cased, its non-ASCII labels encoded as browsers
    and httpx encode them (UTS #46 mapping and IDNA 2008: ``Bücher.example`` is
    ``xn--bcher-kva.example``, ``faß.de`` is ``xn--fa-hia.de``). None if it cannot be looked up: a
    label IDNA refuses, controls, spaces or WHATWG's forbidden characters (after the mapping, which
    turns a full-width solidus, U+FF0F, into ``/``), labels not 1 to 63 characters or over 253 in all."""
    if ":" in host:  # only an IPv6 literal has a colon here
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        return host
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except UnicodeError:  # idna.IDNAError: a character or a joiner IDNA refuses, a bad label
            return None
    host = host.lower()
    if any(char <= " " or char == "\x7f" or char in _FORBIDDEN_IN_HOST for char in host):
        return None
    try:
        encoded = host.encode("idna")
    except UnicodeError:  # an empty label or one over 63 characters
        return None
    return host if 0 < len(encoded.rstrip(b".")) <= MAX_HOST_LENGTH else None


def valid_host_name(host: str) -> bool:
    """Whether ``host`` (as ``urlsplit`` gives it) can be looked up (``ascii_host``)."""
    return ascii_host(host) is not None


def _percent_encoded(text: str, encoded: frozenset[str]) -> str:
    """``text`` with controls and the ``encoded`` characters percent-encoded."""
    return "".join(f"%{ord(char):02X}" if char < " " or char == "\x7f" or char in encoded else char for char in text)


def url_path_form(path: str) -> str:
    """A path (or path prefix) written as ``normalize_url`` writes paths."""
    return _percent_normalized(_percent_encoded(path, _PATH_ENCODED))


_PERCENT_ESCAPE = re.compile("%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Query parameters that only say where a visitor came from (campaign and click ids): the same page.
_TRACKING_PARAMETERS = frozenset({"gclid", "fbclid", "msclkid", "dclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi"})


def _percent_normalized(text: str) -> str:
    """RFC 3986 §6.2.2: escapes of unreserved characters decoded (``%64`` is ``d``), the others in
    upper case (``%2f`` is ``%2F``), so one address is written one way; a hex digit that would make
    an escape of a bare ``%`` before it (``%%34%31``) stays encoded, or a second pass would read one."""
    out, position = "", 0
    for escape in _PERCENT_ESCAPE.finditer(text):
        out += text[position : escape.start()]
        char = chr(int(escape.group(1), 16))
        makes_escape = char in _HEX_DIGITS and _RAW_PERCENT_AND_HEX.search(out) is not None
        out += char if char in _UNRESERVED and not makes_escape else f"%{escape.group(1).upper()}"
        position = escape.end()
    return out + text[position:]


def _without_tracking(query: str) -> str:
    """The query without ``utm_*`` and click-id parameters, the rest as it was (order included)."""
    kept = (pair for pair in query.split("&") if pair)
    return "&".join(
        pair
        for pair in kept
        if not ((name := pair.split("=", 1)[0].lower()).startswith("utm_") or name in _TRACKING_PARAMETERS)
    )


# The start of a reference naming an http(s) scheme, with the slashes (either way) after it.
_SPECIAL_SCHEME_START = re.compile(r"(https?):([/\\]*)", re.IGNORECASE)


def _special_reference(reference: str, base_scheme: str) -> str | None:
    """A reference to an http(s) address as the WHATWG URL parser reads it, written so that
    ``urljoin`` gives the same address; None when it names no host. Backslashes count as slashes
    before the query (``/\\other.example`` is ``//other.example``); a scheme other than the base's,
    or the base's with two or more slashes, starts an authority however many slashes follow
    (``https:/x`` and ``http:///x`` name host ``x``); the base's scheme with fewer is relative
    (``http:foo``); and an authority must hold a host (``//`` and ``http://`` are no address)."""
    query_or_fragment = re.search("[?#]", reference)
    cut = query_or_fragment.start() if query_or_fragment else len(reference)
    head, tail = reference[:cut].replace("\\", "/"), reference[cut:]
    scheme_start = _SPECIAL_SCHEME_START.match(head)
    if scheme_start is not None:
        scheme, slashes, rest = scheme_start.group(1).lower(), scheme_start.group(2), head[scheme_start.end() :]
        if scheme != base_scheme or len(slashes) >= 2:
            head = f"{scheme}://{rest.lstrip('/')}"
        else:  # relative: "./" keeps "http:x://y" a path on the base's host (urljoin would read a scheme)
            head = slashes + rest if slashes or not rest else f"./{rest}"
    elif head.startswith("//"):
        head = "//" + head.lstrip("/")
    if head.startswith("//") or _SPECIAL_SCHEME_START.match(head):
        host_and_port = head.split("//", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
        if not host_and_port or host_and_port.startswith(":"):
            return None
    return head + tail


def _reference_parts(url: str, base: str) -> SplitResult | None:
    """``url`` (against ``base``) read as browsers read it, split; None for a lone surrogate, no
    host in an http(s) authority or a bad port."""
    url = browser_url_text(url)
    if _SURROGATE.search(url):
        return None
    try:
        special = _special_reference(url, urlsplit(base).scheme.lower() if base else "")
        if special is None:
            return None
        parts = urlsplit(urljoin(base, special) if base else special)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return None
    return parts


def has_credentials(url: str) -> bool:
    """Whether ``url``, read as ``normalize_url`` reads it, names a user or a password
    (``https://user:password@host/``); ``normalize_url`` leaves them out of what it returns."""
    parts = _reference_parts(url, "")
    return parts is not None and bool(parts.username or parts.password)


def normalize_url(url: str, base: str = "") -> str | None:
    """Absolute http(s) URL without fragment or default port, host lower-cased, percent-escapes
    normalised and campaign parameters (``utm_*``, click ids) dropped; None if unusable.

    Read as browsers read an address: tabs and newlines are removed, controls and spaces around it
    stripped, and in the path and query what the WHATWG URL parser encodes (other controls, spaces, a
    few symbols; not non-ASCII, see ``_PATH_ENCODED``) percent-encoded, so the result can be
    requested and stored, and normalising it again changes nothing. Unusable: another scheme, no
    host or one that is not a valid host name (``valid_host_name``), a bad port, a lone surrogate,
    or more than ``MAX_URL_LENGTH`` characters.
    """
    parts = _reference_parts(url, base)
    if parts is None:
        return None
    port = parts.port
    host = ascii_host(parts.hostname) if parts.hostname else None
    if parts.scheme not in {"http", "https"} or host is None:
        return None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        netloc = f"{netloc}:{port}"
    path = url_path_form(parts.path or "/")
    query = _without_tracking(_percent_normalized(_percent_encoded(parts.query, _QUERY_ENCODED)))
    normalized = urlunsplit((parts.scheme, netloc, path, query, ""))
    return normalized if len(normalized) <= MAX_URL_LENGTH else None


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL as ``normalize_url`` writes it (default ports left out):
    what one robots.txt covers."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def path_under(path: str, prefix: str) -> bool:
    """Whether ``path`` is under ``prefix`` on a segment boundary: ``/help`` covers ``/help`` and
    ``/help/...`` but not ``/helpdesk``; a prefix ending in ``/`` is matched as it is."""
    if not prefix or prefix.endswith("/"):
        return path.startswith(prefix or "/")
    return path == prefix or path.startswith(prefix + "/")


def in_scope(url: str, *, host: str, path_prefix: str) -> bool:
    """Same host (either scheme) and under ``path_prefix``; not an obvious non-HTML file."""
    parts = urlsplit(url)
    path = parts.path.lower()
    in_prefix = path_under(parts.path, url_path_form(path_prefix) if path_prefix else "")
    return parts.hostname == host and in_prefix and not path.endswith(SKIP_SUFFIXES)


# A root-relative path that normalising leaves as it is: no dot segment, escape, backslash, space,
# control or non-ASCII character (``url_path_form`` and ``urljoin`` change nothing in it).
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-_~/!$&'()*+,;=:@.]*")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)")
_QUERY_OR_FRAGMENT = re.compile("[?#]")


@dataclass(frozen=True)
class LinkScope:
    """The pages of a source: its host (as ``normalize_url`` writes hosts) and path prefix."""

    host: str
    path_prefix: str = ""

    def covers(self, url: str) -> bool:
        """Whether ``url`` (normalised) is a page of the source (``in_scope``)."""
        return in_scope(url, host=self.host, path_prefix=self.path_prefix)

    def excludes(self, reference: str, base: str) -> bool:
        """Whether ``reference`` (against ``base``) surely names no page of the source, told without
        normalising it: an ASCII reference that names an authority without the source's host
        anywhere in it, or a plain root-relative path (``_PLAIN_PATH``) from a page of the source's
        host outside its path prefix. False when it cannot be told this cheaply (relative paths,
        escapes, dot segments, non-ASCII): ``normalize_url`` and ``covers`` decide."""
        text = browser_url_text(reference)
        if not text.isascii():
            return False
        cut = _QUERY_OR_FRAGMENT.search(text)
        head = text[: cut.start()] if cut else text
        scheme = _SPECIAL_SCHEME_START.match(head)
        base_parts = urlsplit(base)
        if scheme is not None:
            names_authority = scheme.group(1).lower() != base_parts.scheme or len(scheme.group(2)) >= 2
            return names_authority and self.host not in text.lower()
        if head[:2].replace("\\", "/") == "//":
            return self.host not in text.lower()
        if not self.path_prefix or not _PLAIN_PATH.fullmatch(head) or _DOT_SEGMENT.search(head):
            return False
        return base_parts.hostname == self.host and not path_under(head, url_path_form(self.path_prefix))
