"""robots.txt per RFC 9309: the RFC's own examples, Google's documented ones, and the file's edge cases."""

from __future__ import annotations

import time

import pytest

from knowledge.conf import DEFAULT_USER_AGENT
from knowledge.robots import MAX_PARSE_BYTES, RobotsRules, normalise_path, product_token
from knowledge.web_addresses import normalize_url

BOT = "SupportAI-KnowledgeBot"

# RFC 9309 §5.1
RFC_SIMPLE = """\
User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot
"""


@pytest.mark.parametrize(
    ("agent", "path", "allowed"),
    [
        ("foobot", "/example/page.html", True),
        ("foobot", "/example/allowed.gif", True),
        ("foobot", "/example/other.html", False),
        ("foobot", "/", False),
        ("foobot", "/robots.txt", True),  # always allowed, whatever the rules say
        ("barbot", "/example/page.html", False),
        ("bazbot", "/example/page.html", False),
        ("bazbot", "/example/other.html", True),
        ("bazbot", "/image.gif", True),  # its own group, so not the "*" rules
        ("quxbot", "/example/page.html", True),  # an empty group of its own beats "*"
        ("quxbot", "/image.gif", True),
        ("otherbot", "/example/page.html", False),
        ("otherbot", "/images/cat.gif", False),
        ("otherbot", "/images/cat.gifs", True),
        ("otherbot", "/publications/", True),
        ("otherbot", "/", True),
    ],
)
def test_rfc_simple_example(agent, path, allowed):
    assert RobotsRules.parse(RFC_SIMPLE).allows(agent, path) is allowed


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/example/page/", True),
        ("/example/page/index.html", True),
        ("/example/page/disallowed.gif", False),
        ("/example/page/disallowed.gif.bak", False),
    ],
)
def test_rfc_longest_match_example(path, allowed):
    # RFC 9309 §5.2
    rules = RobotsRules.parse("User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n")
    assert rules.allows("foobot", path) is allowed


# Google's "URL matching based on path values" table: pattern → (matched paths, unmatched paths).
GOOGLE_PATTERNS = {
    "/": (["/", "/fish", "/a/b?c"], []),
    "/*": (["/", "/fish", "/a/b?c"], []),
    "/$": (["/"], ["/fish", "/?x=1"]),
    "/fish": (
        ["/fish", "/fish.html", "/fish/salmon.html", "/fishheads", "/fishheads/yummy.html", "/fish.php?id=anything"],
        ["/Fish.asp", "/catfish", "/?id=fish", "/desert/fish"],
    ),
    "/fish*": (
        ["/fish", "/fish.html", "/fish/salmon.html", "/fishheads", "/fishheads/yummy.html", "/fish.php?id=anything"],
        ["/Fish.asp", "/catfish", "/?id=fish", "/desert/fish"],
    ),
    "/fish/": (
        ["/fish/", "/fish/?id=anything", "/fish/salmon.htm"],
        ["/fish", "/fish.html", "/animals/fish/", "/Fish/Salmon.asp"],
    ),
    "/*.php": (
        [
            "/index.php",
            "/filename.php",
            "/folder/filename.php",
            "/folder/filename.php?parameters",
            "/folder/any.php.file.html",
            "/filename.php/",
        ],
        ["/", "/windows.PHP"],
    ),
    "/*.php$": (
        ["/filename.php", "/folder/filename.php"],
        ["/filename.php?parameters", "/filename.php/", "/filename.php5", "/windows.PHP"],
    ),
    "/fish*.php": (["/fish.php", "/fishheads/catfish.php?parameters"], ["/Fish.PHP"]),
}


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        (pattern, path, matches)
        for pattern, (hits, misses) in GOOGLE_PATTERNS.items()
        for matches, paths in ((True, hits), (False, misses))
        for path in paths
    ],
)
def test_google_path_patterns(pattern, path, matches):
    rules = RobotsRules.parse(f"User-agent: *\nDisallow: {pattern}\n")
    assert rules.allows(BOT, path) is not matches


@pytest.mark.parametrize(
    ("robots", "path", "allowed"),
    [
        # Google's order-of-precedence examples: the longest pattern wins, Allow wins a tie.
        ("Allow: /p\nDisallow: /", "/page", True),
        ("Allow: /folder\nDisallow: /folder", "/folder/page", True),
        ("Disallow: /folder\nAllow: /folder", "/folder/page", True),  # order in the file does not matter
        ("Allow: /page\nDisallow: /*.htm", "/page.htm", False),
        ("Allow: /$\nDisallow: /", "/", True),
        ("Allow: /$\nDisallow: /", "/page.htm", False),
        # An empty Disallow (or Allow) is no rule at all.
        ("Disallow:", "/anything", True),
        ("Disallow: \nAllow:", "/", True),
        ("Allow:\nDisallow: /private", "/private", False),
        # No rule matching means allowed.
        ("Disallow: /private", "/public", True),
    ],
)
def test_precedence_and_empty_rules(robots, path, allowed):
    assert RobotsRules.parse(f"User-agent: {BOT}\n{robots}\n").allows(BOT, path) is allowed


def test_groups_for_the_same_agent_are_merged_wherever_they_are():
    # given our agent named in two groups (one of them shared with another agent, one in another case)
    rules = RobotsRules.parse(
        f"User-agent: {BOT}\nDisallow: /a\n\n"
        "User-agent: otherbot\nDisallow: /b\n\n"
        f"User-agent: examplebot\nUser-agent: {BOT.lower()}\nDisallow: /c\n"
    )
    # then both groups' rules apply to us, and only the shared one to examplebot
    assert [rules.allows(BOT, path) for path in ("/a", "/b", "/c", "/d")] == [False, True, False, True]
    assert [rules.allows("examplebot", path) for path in ("/a", "/c")] == [True, False]


def test_consecutive_user_agent_lines_share_a_group_and_a_rule_ends_it():
    rules = RobotsRules.parse("User-agent: a\nUser-agent: b\nDisallow: /x\nUser-agent: c\nDisallow: /y\n")
    assert not rules.allows("a", "/x") and not rules.allows("b", "/x") and rules.allows("b", "/y")
    assert rules.allows("c", "/x") and not rules.allows("c", "/y")


def test_the_star_group_applies_only_when_no_group_names_us():
    star_only = RobotsRules.parse("User-agent: *\nDisallow: /private\n")
    ours_too = RobotsRules.parse(f"User-agent: *\nDisallow: /\n\nUser-agent: {BOT}\nDisallow: /private\n")
    several_stars = RobotsRules.parse(
        "User-agent: *\nDisallow: /a\nUser-agent: otherbot\nUser-agent: *\nDisallow: /b\n"
    )
    assert not star_only.allows(BOT, "/private") and star_only.allows(BOT, "/public")
    assert ours_too.allows(BOT, "/public") and not ours_too.allows(BOT, "/private")
    assert not several_stars.allows(BOT, "/a") and not several_stars.allows(BOT, "/b")
    assert RobotsRules.parse("User-agent: otherbot\nDisallow: /\n").allows(BOT, "/anything")  # no group at all


@pytest.mark.parametrize(
    ("agent_line", "applies"),
    [
        ("supportai-knowledgebot", True),
        ("SUPPORTAI-KNOWLEDGEBOT", True),
        ("SupportAI-KnowledgeBot/1.0", True),  # a version after the token is not part of it
        ("  SupportAI-KnowledgeBot  ", True),
        ("SupportAI", False),  # a prefix of our token is another agent, not a substring match
        ("SupportAI-KnowledgeBotExtra", False),
        ("KnowledgeBot", False),
    ],
)
def test_agents_match_our_product_token_case_insensitively(agent_line, applies):
    rules = RobotsRules.parse(f"User-agent: *\nDisallow: /star\n\nUser-agent: {agent_line}\nDisallow: /ours\n")
    assert rules.allows(DEFAULT_USER_AGENT, "/ours") is not applies
    assert rules.allows(DEFAULT_USER_AGENT, "/star") is applies


def test_product_token_is_the_user_agent_before_the_slash():
    assert product_token(DEFAULT_USER_AGENT) == BOT
    assert product_token(BOT) == BOT
    assert product_token("Googlebot/2.1 (+http://www.google.com/bot.html)") == "Googlebot"


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        # RFC 9309 §2.2.2 / §2.2.3 (figures 6 and 7)
        ("/foo/bar?baz=quz", "/foo/bar?baz=quz", True),
        ("/foo/bar/\u30c4", "/foo/bar/%E3%83%84", True),
        ("/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", True),
        ("/foo/bar/%E3%83%84", "/foo/bar/\u30c4", True),
        ("/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84", True),  # hex digits compare case-insensitively
        ("/foo/bar/%62%61%7A", "/foo/bar/baz", True),  # escaped unreserved characters are decoded
        ("/foo/bar/baz", "/foo/bar/%62%61%7a", True),
        ("/path/file-with-a-%2A.html", "/path/file-with-a-*.html", True),
        ("/path/file-with-a-%2A.html", "/path/file-with-a-x.html", False),  # an escaped * is no wildcard
        ("/path/foo-%24", "/path/foo-$", True),
        ("/path/foo-%24", "/path/foo-$/more", True),  # an escaped $ is no anchor
        ("/path/a$b", "/path/a$b", True),  # a $ that does not end the pattern is a character
        # An escaped reserved character is a different octet from the character itself.
        ("/foo/bar%3Fbaz", "/foo/bar%3Fbaz", True),
        ("/foo/bar%3Fbaz", "/foo/bar%3fbaz", True),
        ("/foo/bar%3Fbaz", "/foo/bar?baz", False),
        ("/foo/bar?baz", "/foo/bar%3Fbaz", False),
        ("/a%2Fb", "/a/b", False),
        ("/with space", "/with%20space", True),
    ],
)
def test_paths_are_compared_percent_encoding_normalised(pattern, path, matches):
    rules = RobotsRules.parse(f"User-agent: *\nDisallow: {pattern}\n")
    assert rules.allows(BOT, path) is not matches


def test_normalise_path_forms():
    assert normalise_path("/foo/bar/%62%61%7a/\u30c4?q=%2f") == "/foo/bar/baz/%E3%83%84?q=%2F"
    assert normalise_path("/100%") == "/100%25"
    assert normalise_path("/a*b$") == "/a%2Ab%24"
    assert normalise_path("/a*b$c$", pattern=True) == "/a*b%24c$"


@pytest.mark.parametrize(
    ("robots", "url", "allowed"),
    [
        ("Disallow: /*?", "https://help.example/search?q=refund", False),
        ("Disallow: /*?", "https://help.example/search", True),
        ("Disallow: /*?sort=", "https://help.example/list?page=2&sort=asc", True),
        ("Disallow: /*sort=", "https://help.example/list?page=2&sort=asc", False),
        ("Disallow: /list?page=2$", "https://help.example/list?page=2", False),
        ("Disallow: /list?page=2$", "https://help.example/list?page=2&x", True),
        ("Disallow: /list$", "https://help.example/list?page=2", True),
        ("Disallow: /help#private", "https://help.example/help-centre", False),  # '#' starts a comment
        ("Disallow: /help", "https://help.example/help#section", False),  # the fragment is not sent
        ("Disallow: /", "https://help.example", False),  # an empty path is "/"
        ("Disallow: /", "https://help.example/robots.txt", True),
    ],
)
def test_the_query_string_is_part_of_the_path_and_urls_or_paths_are_accepted(robots, url, allowed):
    rules = RobotsRules.parse(f"User-agent: *\n{robots}\n")
    path = url.removeprefix("https://help.example") or "/"
    assert rules.allows(BOT, url) is allowed
    assert rules.allows(BOT, path) is allowed


def test_invalid_lines_and_other_records_are_ignored():
    # given rules before any group, lines without a colon, unknown keys, a Sitemap inside a group
    rules = RobotsRules.parse(
        "Disallow: /orphan\n"
        "this is not a record\n"
        f"User-agent: {BOT}\n"
        "Disallow /no-colon\n"
        "Disalow: /typo\n"
        "Disallow: /private\n"
        "Sitemap: https://help.example/sitemap.xml\n"
        "Noindex: /x\n"
        "  ALLOW  :   /private/public   # comment\n"
        ": /nothing\n"
        "\x00\x01garbage\n"
    )
    # then only the two valid rules count, and the Sitemap line did not end the group
    for path, allowed in [
        ("/orphan", True),
        ("/no-colon", True),
        ("/typo", True),
        ("/private", False),
        ("/private/public/a", True),
    ]:
        assert rules.allows(BOT, path) is allowed, path


@pytest.mark.parametrize(
    "content",
    [
        f"\ufeffUser-agent: {BOT}\nDisallow: /private\n",
        f"\ufeffUser-agent: {BOT}\nDisallow: /private\n".encode(),
        f"User-agent: {BOT}\r\nDisallow: /private\r\n",
        f"User-agent: {BOT}\rDisallow: /private\r",
        f"User-agent: {BOT}\nDisallow: /private",  # no final line end
        f"# robots\n\n\t user-agent :{BOT}\n  disallow:/private  # staff\n",
    ],
    ids=["bom-str", "bom-bytes", "crlf", "cr", "no-final-eol", "comments-and-spacing"],
)
def test_file_formats_are_read_alike(content):
    rules = RobotsRules.parse(content)
    assert not rules.allows(BOT, "/private") and rules.allows(BOT, "/public")


def test_only_the_first_500_kib_are_parsed():
    # given a rule well inside the limit, filler up to it, a rule cut by it and a rule after it
    head = f"User-agent: {BOT}\nDisallow: /first\n"
    filler = "# " + "x" * 78 + "\n"
    body = head + filler * ((MAX_PARSE_BYTES - len(head) - 100) // len(filler))
    cut = "Disallow: /c"
    body += " " * (MAX_PARSE_BYTES - len(body) - len(cut)) + cut + "ut-short\nDisallow: /after\n"
    # when
    rules = RobotsRules.parse(body.encode())
    # then
    assert len(body.encode()) > MAX_PARSE_BYTES
    assert not rules.allows(BOT, "/first")
    assert rules.allows(BOT, "/c") and rules.allows(BOT, "/cut-short")  # the cut line is dropped whole
    assert rules.allows(BOT, "/after")


@pytest.mark.parametrize(
    ("robots", "delay"),
    [
        (f"User-agent: {BOT}\nCrawl-delay: 2.5\n", 2.5),
        (f"User-agent: *\nCrawl-delay: 3\nUser-agent: {BOT}\nDisallow: /x\n", None),  # our group says nothing
        ("User-agent: *\nCrawl-delay: 3\n", 3.0),  # no group of ours: "*" speaks for us
        (f"User-agent: {BOT}\nCrawl-delay: 1\n\nUser-agent: {BOT.upper()}\nCrawl-delay: 4\n", 4.0),
        (f"User-agent: {BOT}\nCrawl-delay: soon\n", None),
        (f"User-agent: {BOT}\nCrawl-delay: -1\n", None),
        (f"User-agent: {BOT}\nCrawl-delay: nan\n", None),
        ("User-agent: otherbot\nCrawl-delay: 9\n", None),
    ],
)
def test_crawl_delay_is_read_from_the_group_that_applies_to_us(robots, delay):
    assert RobotsRules.parse(robots).crawl_delay(DEFAULT_USER_AGENT) == delay


def test_a_crawl_delay_line_ends_the_user_agent_lines_of_its_group():
    rules = RobotsRules.parse("User-agent: a\nCrawl-delay: 5\nUser-agent: b\nDisallow: /\n")
    assert rules.crawl_delay("a") == 5.0 and rules.allows("a", "/page")
    assert rules.crawl_delay("b") is None and not rules.allows("b", "/page")


def test_an_empty_file_allows_everything():
    rules = RobotsRules.parse(b"")
    assert rules.allows(BOT, "/anything?at=all") and rules.crawl_delay(BOT) is None


def test_a_hostile_pattern_is_matched_in_linear_time():
    # given a pattern a backtracking regular expression would take ages to reject
    rules = RobotsRules.parse(f"User-agent: *\nDisallow: /{'a*' * 2000}b\n")
    started = time.monotonic()
    # when
    allowed = rules.allows(BOT, "/" + "a" * 5000)
    # then
    assert allowed and time.monotonic() - started < 1.0


def test_a_rule_with_symbols_in_the_query_matches_the_address_as_the_crawler_writes_it():
    rules = RobotsRules.parse("User-agent: *\nDisallow: /search?q='\nDisallow: /a b\n")
    for address in ("https://help.example.com/search?q='x'", "https://help.example.com/a b/c"):
        url = normalize_url(address)
        assert url is not None and not rules.allows("SupportAI-KnowledgeBot", url), url
