"""The queue of pages a crawl still has to read: breadth-first, deduplicated, and bounded by what
the sync may still read however many links its pages give."""

from __future__ import annotations

import pytest

from knowledge import frontier as frontier_module
from knowledge import site_sync, sources
from knowledge.frontier import Frontier
from knowledge.html_links import MAX_LINKS_PER_PAGE
from knowledge.models import Document
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant


def test_frontier_pops_breadth_first_and_each_address_once() -> None:
    # given
    frontier = Frontier("https://a.example/")
    assert frontier.pop() == ("https://a.example/", 0)
    # when the same address is offered twice, and again from a deeper page
    frontier.add(["https://a.example/1", "https://a.example/2", "https://a.example/1"], depth=1, room=10)
    frontier.add(["https://a.example/2", "https://a.example/3"], depth=2, room=10)
    # then each comes out once, in the order it was first found
    popped = [frontier.pop(), frontier.pop(), frontier.pop(), frontier.pop()]
    assert popped == [("https://a.example/1", 1), ("https://a.example/2", 1), ("https://a.example/3", 2), None]


def test_frontier_skips_addresses_already_read() -> None:
    frontier = Frontier("https://a.example/")
    frontier.pop()
    frontier.add(["https://a.example/", "https://a.example/moved"], depth=1, room=5, read={"https://a.example/moved"})
    assert frontier.pop() is None


def test_frontier_holds_no_more_than_the_pages_left_and_one_page_of_links() -> None:
    # given a frontier that may still lead to 3 pages
    frontier = Frontier("https://a.example/")
    frontier.pop()
    # when pages give it thousands of distinct links
    for page in range(5):
        links = [f"https://a.example/{page}/{n}" for n in range(MAX_LINKS_PER_PAGE)]
        frontier.add(links, depth=1, room=3)
    # then it keeps the first ones found (breadth-first), as many as could still be read plus a
    # page's worth for those that turn out not to count (robots.txt, read earlier via a redirect)
    assert len(frontier) == 3 + MAX_LINKS_PER_PAGE
    assert frontier.pop() == ("https://a.example/0/0", 1)


@pytest.mark.usefixtures("local_crawl")
def test_a_crawl_trap_cannot_grow_the_queue_past_what_the_sync_may_read(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a start page leading to 5 pages that each link to 1,000 distinct addresses (a crawl
    # trap), and a source that may read 6 pages
    chapters = [f"/help/c{n}" for n in range(5)]
    site.article("/help/", "Index", "All chapters.", links=tuple(chapters))
    for chapter in chapters:
        site.article(chapter, chapter, "Chapter.", links=tuple(f"{chapter}/p{n}" for n in range(1_000)))
    config = {"start_url": f"{site.url}/help/", "path_prefix": "/help/", "max_pages": 6}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    sizes: list[int] = []

    class Measured(Frontier):
        def add(self, *args: object, **kwargs: object) -> None:
            super().add(*args, **kwargs)  # type: ignore[arg-type]
            sizes.append(len(self))

    monkeypatch.setattr(frontier_module, "Frontier", Measured)
    monkeypatch.setattr("knowledge.site_sync.Frontier", Measured)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the six pages are read breadth-first, while the queue never held more than a page of
    # links beyond what could still be read (unbounded, it held 4,000)
    assert result.error == "" and result.pages == 6
    titles = set(Document.objects.filter(source=source).values_list("title", flat=True))
    assert titles == {"Index", *chapters}
    assert max(sizes) <= 6 + MAX_LINKS_PER_PAGE


@pytest.mark.usefixtures("local_crawl")
def test_links_robots_txt_disallows_are_neither_queued_nor_remembered_one_by_one(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a chain of chapters, each linking the next and 1,000 distinct addresses robots.txt
    # disallows (a search or calendar trap), and a source that may read 6 pages
    site.robots("User-agent: *\nDisallow: /help/trap/\n")
    chapters = [f"/help/c{n}" for n in range(6)]
    for chapter, following in zip(chapters, [*chapters[1:], "/help/end"], strict=True):
        traps = tuple(f"/help/trap{chapter}/{n}" for n in range(1_000))
        site.article(chapter, chapter, "Chapter.", links=(following, *traps))
    config = {"start_url": f"{site.url}/help/c0", "path_prefix": "/help/", "max_pages": 6, "max_depth": 6}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    syncs: list[site_sync.SiteSync] = []

    class Watched(site_sync.SiteSync):
        def run(self) -> None:
            syncs.append(self)
            super().run()

    monkeypatch.setattr(sources, "SiteSync", Watched)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the six chapters are read, each disallowed address is counted once, none is requested,
    # (a page gives its first 1,000 links: the next chapter and 999 traps), and the sync remembers
    # the pages it read, not every disallowed link it popped (2,010 addresses before)
    assert result.error == "" and result.pages == 6 and result.skipped_robots == 6 * 999
    assert set(Document.objects.filter(source=source).values_list("title", flat=True)) == set(chapters)
    assert not [r for r in site.requests if r.path.startswith("/help/trap")]
    assert len(syncs[0].visited) <= 6 + 1
