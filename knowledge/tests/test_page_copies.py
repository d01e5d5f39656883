"""PageCopies on hand-made orders: the stored copy keeps an article whatever the order it is read in."""

from __future__ import annotations

from knowledge.page_copies import PageCopies, text_digest


def test_the_first_address_read_keeps_an_article_nobody_stored():
    copies: PageCopies[str] = PageCopies({})
    assert copies.claim("/a", "d1", "page a", visited={"/a"}) == ("page a", "")
    assert copies.claim("/b", "d1", "page b", visited={"/a", "/b"}) == (None, "/b")
    assert copies.copies_of(["/a"]) == {"/b"} and copies.unclaimed() == []


def test_a_new_address_waits_for_the_stored_copy_and_gives_way_to_it():
    copies: PageCopies[str] = PageCopies({"d1": {"/stored"}})
    assert copies.claim("/new", "d1", "page new", visited={"/new"}) == (None, "")
    # the stored copy, unchanged (nothing to store), displaces the new address
    assert copies.claim("/stored", "d1", None, visited={"/new", "/stored"}) == (None, "/new")
    assert copies.unclaimed() == [] and copies.copies_of(["/stored"]) == {"/new"}


def test_a_new_address_keeps_the_article_when_the_stored_copy_is_not_read():
    copies: PageCopies[str] = PageCopies({"d1": {"/stored"}})
    assert copies.claim("/new", "d1", "page new", visited={"/new"}) == (None, "")
    assert copies.unclaimed() == ["page new"] and copies.unclaimed() == []


def test_a_new_address_does_not_wait_for_a_stored_copy_read_already():
    # the stored copy was read earlier in the sync with other text (or failed)
    copies: PageCopies[str] = PageCopies({"d1": {"/stored"}})
    assert copies.claim("/new", "d1", "page new", visited={"/stored", "/new"}) == ("page new", "")


def test_the_digest_is_postgresqls_md5_of_title_and_text(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT md5(%s || chr(31) || %s)", ["Café", "Öffnungszeiten: 9 bis 17 Uhr, ✓"])
        (expected,) = cursor.fetchone()
    assert text_digest("Café", "Öffnungszeiten: 9 bis 17 Uhr, ✓") == expected


def test_any_stored_copy_displaces_a_new_address_and_the_first_stored_one_read_keeps_it():
    copies: PageCopies[str] = PageCopies({"d1": {"/s1", "/s2"}})
    assert copies.claim("/new", "d1", "page new", visited={"/new"}) == (None, "")
    assert copies.claim("/s2", "d1", None, visited={"/new", "/s2"}) == (None, "/new")
    assert copies.claim("/s1", "d1", None, visited={"/new", "/s2", "/s1"}) == (None, "/s1")
    assert copies.unclaimed() == [] and copies.copies_of(["/s2"]) == {"/new", "/s1"}


def test_an_address_claiming_its_article_again_keeps_it():
    # a page kept where its text is stored after an error, then read directly in the same sync
    copies: PageCopies[str] = PageCopies({"d1": {"/s"}})
    assert copies.claim("/s", "d1", None, visited={"/old"}) == (None, "")
    assert copies.claim("/s", "d1", "page s", visited={"/old", "/s"}) == ("page s", "")
    assert copies.copies_of(["/s"]) == set()
