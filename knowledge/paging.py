"""Pages of long, ordered lists (the documents list of the console and the REST API)."""

from __future__ import annotations

from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


class IdsFirstPaginator(Paginator):
    """A ``Paginator`` of an ordered ``QuerySet`` that reads a page's ids first, then the rows of those ids.

    Deep in a list (page 400 of 20,000 documents) PostgreSQL must step over every row before the
    page: the ids come from an index on the list's order without touching the rows it skips, where
    a query of whole rows would sort them all instead. Two queries a page, whichever page.
    """

    object_list: QuerySet[Any]

    def page(self, number: int | str) -> Page:
        page = super().page(number)
        # ``object_list`` is the page's slice of the list: its ids, then its rows in the list's order.
        ids = list(cast(QuerySet[Any], page.object_list).values_list("pk", flat=True))
        page.object_list = list(self.object_list.filter(pk__in=ids)) if ids else []
        return page
