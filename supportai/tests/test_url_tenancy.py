"""Every console page and tenant API operation, walked from the URL resolver: one tenant's staff never
reach another tenant's objects, and roles that may not change something are refused.

``ROUTES`` names each console and ``/api/v1/`` route (the public widget endpoints, the log-in pages
and placeholder sections excepted: ``NOT_WALKED``): the methods it answers, which of the tenant's
objects its path and query parameters name, and the weakest role that may change something through
it (README: agents and analysts get a 403 where owners/admins act, analysts where staff act). A route
added without an entry fails ``test_every_console_and_api_route_is_walked``, so a new object URL gets
its cross-tenant case by construction.

Then staff (console, API session) and an API key of the other tenant send every method of every route
naming objects with ``alpha``'s, alone and mixed with their own: a 404 (a 403 is no leak either)
where ``alpha``'s object is in the path, a page without ``alpha``'s data where it is only a filter,
and nothing of ``alpha``'s changes; ``alpha``'s owner sees each of those pages (so the walk names
objects that exist). Each role below a route's weakest, an anonymous client and a cross-site post
without a CSRF token are refused and change nothing. The routes are walked in loops, not parametrised:
the two tenants' objects (one indexed document each) are made once per test, and a failure lists
every route that failed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from bookings.models import AvailabilityRule, BlackoutDate, Booking, BookingEmail, Service
from chat.models import Conversation, Message
from escalations.models import Escalation, EscalationPolicy
from knowledge.models import Document, KnowledgeSource
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory, api_client
from supportai.tests.tenant_objects import World, objects_of

MEMBER, STAFF, MANAGER = "member", "staff", "manager"  # who may change things through a route
REFUSED_ROLES = {MEMBER: (), STAFF: (Role.ANALYST,), MANAGER: (Role.AGENT, Role.ANALYST)}


@dataclass(frozen=True)
class Route:
    """What a route answers: ``reads`` only show, ``writes`` may change (by ``who`` at the least);
    ``objects`` maps a path parameter to the kind of object it names, ``query`` a query parameter;
    ``words`` gives a path parameter that names no object (a notification channel) the word it is
    walked with."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    who: str = MEMBER
    objects: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)

    def path(self, name: str, objects: dict[str, int]) -> str:
        """``name``'s path, its object parameters filled from ``objects`` (parameter: pk), the rest from ``words``."""
        return reverse(name, kwargs={**self.words, **objects})


GET, POST, DELETE = "GET", "POST", "DELETE"
ROUTES: dict[str, Route] = {
    # console: conversations
    "chat_console:conversations": Route(reads=(GET,)),
    "chat_console:conversation": Route(reads=(GET,), objects={"pk": "conversation"}),
    # console: knowledge
    "knowledge_console:documents": Route(reads=(GET,), writes=(POST,), who=MANAGER, query={"source": "source"}),
    "knowledge_console:document": Route(reads=(GET,), objects={"pk": "document"}, query={"chunk": "chunk"}),
    "knowledge_console:document-delete": Route(reads=(GET,), writes=(POST,), who=MANAGER, objects={"pk": "document"}),
    "knowledge_console:document-reindex": Route(writes=(POST,), who=MANAGER, objects={"pk": "document"}),
    "knowledge_console:source-new": Route(reads=(GET,), writes=(POST,), who=MANAGER),
    "knowledge_console:source-edit": Route(reads=(GET,), writes=(POST,), who=MANAGER, objects={"pk": "source"}),
    "knowledge_console:source-delete": Route(reads=(GET,), writes=(POST,), who=MANAGER, objects={"pk": "source"}),
    "knowledge_console:source-sync": Route(writes=(POST,), who=MANAGER, objects={"pk": "source"}),
    "knowledge_console:search": Route(reads=(GET,)),
    # console: inbox
    "escalations_console:inbox": Route(reads=(GET,)),
    "escalations_console:detail": Route(reads=(GET,), objects={"pk": "escalation"}),
    **{
        f"escalations_console:{action}": Route(writes=(POST,), who=STAFF, objects={"pk": "escalation"})
        for action in ("claim", "assign", "reply", "hand_back", "resolve")
    },
    "escalations_console:switch_on": Route(writes=(POST,), who=MANAGER, words={"channel": "slack"}),
    # console: bookings
    "bookings_console:list": Route(reads=(GET,), query={"service": "service"}),
    "bookings_console:day": Route(reads=(GET,)),
    "bookings_console:new": Route(writes=(GET, POST), who=STAFF),
    "bookings_console:detail": Route(reads=(GET,), objects={"pk": "booking"}),
    **{
        f"bookings_console:{action}": Route(writes=(POST,), who=STAFF, objects={"pk": "booking"})
        for action in ("cancel", "reschedule", "record_payment", "no_show", "no_show_undo")
    },
    "bookings_console:refund": Route(writes=(POST,), who=MANAGER, objects={"pk": "booking"}),
    "bookings_console:refund_offline": Route(writes=(POST,), who=MANAGER, objects={"pk": "booking"}),
    "bookings_console:email_retry": Route(writes=(POST,), who=STAFF, objects={"pk": "booking", "email_pk": "email"}),
    "bookings_console:catalog": Route(reads=(GET,)),
    "bookings_console:service_new": Route(writes=(GET, POST), who=MANAGER),
    "bookings_console:service_edit": Route(writes=(GET, POST), who=MANAGER, objects={"pk": "service"}),
    "bookings_console:rule_add": Route(writes=(POST,), who=MANAGER),
    "bookings_console:rule_delete": Route(writes=(GET, POST), who=MANAGER, objects={"pk": "rule"}),
    "bookings_console:blackout_add": Route(writes=(POST,), who=MANAGER),
    "bookings_console:blackout_delete": Route(writes=(GET, POST), who=MANAGER, objects={"pk": "blackout"}),
    # console: home, sections, tenant switch
    "console:home": Route(reads=(GET,)),
    "console:switch_tenant": Route(writes=(POST,)),
    # tenant REST API
    "api-tenant-detail": Route(reads=(GET,)),
    "api-knowledge-documents": Route(reads=(GET,), writes=(POST,), who=MANAGER, query={"source": "source"}),
    "api-knowledge-document": Route(reads=(GET,), writes=(DELETE,), who=MANAGER, objects={"pk": "document"}),
    "api-knowledge-source-create": Route(writes=(POST,), who=MANAGER),
    "api-knowledge-source": Route(reads=(GET,), objects={"pk": "source"}),
    "api-knowledge-source-sync": Route(writes=(POST,), who=MANAGER, objects={"pk": "source"}),
    "api-knowledge-search": Route(reads=(POST,)),
}
NOT_WALKED = {
    "console:login": "Django's log-in page: no tenant yet",
    "console:logout": "Django's log-out",
    "console:section": "placeholder pages named by a fixed slug, no object",
}
WALKED_PREFIXES = ("console/", "api/v1/")
PUBLIC_PREFIX = "api/v1/public/"  # the widget's endpoints: a tenant's public key, no staff (test_public_*)
SECRET_WORD = "zebracorn"  # in alpha's data only


def _routes(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(route, name) of every URL pattern, names with their namespace."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner or namespace)
        else:
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            yield prefix + str(pattern.pattern), name


def _walked_routes() -> dict[str, str]:
    return {
        name: route
        for route, name in _routes(get_resolver().url_patterns)
        if route.startswith(WALKED_PREFIXES) and not route.startswith(PUBLIC_PREFIX)
    }


def test_every_console_and_api_route_is_walked() -> None:
    walked = _walked_routes()
    assert set(walked) == set(ROUTES) | set(NOT_WALKED)
    for name, route in walked.items():
        if name in ROUTES:  # each path parameter names the kind of object it is filled with
            parameters = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
            assert parameters == set(ROUTES[name].objects) | set(ROUTES[name].words), name


def _state(tenant: Tenant) -> list[object]:
    """What no request of another tenant's staff, or of a role refused, may change."""
    return [
        list(Booking.objects.filter(tenant=tenant).order_by("pk").values_list("status", "paid_at", "start_at")),
        list(BookingEmail.objects.filter(tenant=tenant).order_by("pk").values_list("status", "attempts")),
        list(Service.objects.filter(tenant=tenant).order_by("pk").values_list("name", "price_cents", "active")),
        list(AvailabilityRule.objects.filter(tenant=tenant).order_by("pk").values_list("pk")),
        list(BlackoutDate.objects.filter(tenant=tenant).order_by("pk").values_list("pk")),
        list(KnowledgeSource.objects.filter(tenant=tenant).order_by("pk").values_list("name", "config", "status")),
        list(Document.objects.filter(tenant=tenant).order_by("pk").values_list("status", "queued_at")),
        list(Escalation.objects.filter(tenant=tenant).order_by("pk").values_list("status", "assigned_to")),
        list(Conversation.objects.filter(tenant=tenant).order_by("pk").values_list("status")),
        Message.objects.filter(tenant=tenant).count(),
        list(EscalationPolicy.objects.filter(tenant=tenant).values_list("slack_disabled_at", "webhook_disabled_at")),
    ]


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    url: str
    # alpha's objects in the path: refused; in the query alone (a filter): the page may answer, without them
    refused: bool = True


def _url(name: str, route: Route, worlds: tuple[World, ...]) -> str:
    """``name``'s URL, its path parameters then its query parameters filled, in order, from ``worlds``."""
    named = [*route.objects.items(), *route.query.items()]
    filled = [(parameter, world[kind]) for (parameter, kind), world in zip(named, worlds, strict=True)]
    path = route.path(name, dict(filled[: len(route.objects)]))
    query = "&".join(f"{parameter}={pk}" for parameter, pk in filled[len(route.objects) :])
    return f"{path}?{query}" if query else path


def _foreign_probes(alpha: World, bravo: World) -> Iterator[Probe]:
    """Each method of each route naming objects, with alpha's objects alone and mixed with bravo's (the
    page of bravo's document asked for alpha's chunk), as bravo's staff would send it."""
    for name, route in ROUTES.items():
        for worlds in itertools.product((alpha, bravo), repeat=len(route.objects) + len(route.query)):
            if alpha in worlds:
                url, refused = _url(name, route, worlds), alpha in worlds[: len(route.objects)]
                yield from (Probe(name, method, url, refused) for method in route.reads + route.writes)


def _send(client: Client, probe: Probe, tenant: Tenant) -> Any:
    """``probe`` sent as a console page of ``tenant`` (the client's) would send it, or an API client."""
    body = {"tenant": str(tenant.pk), "text": "hi", "notes": "", "user_id": "1"}
    if probe.method == GET:
        return client.get(probe.url)
    if probe.method == DELETE:
        return client.delete(probe.url)
    return client.post(probe.url, body)


@pytest.fixture
def worlds(tenant: Tenant, other_tenant: Tenant) -> tuple[World, World]:
    """alpha (``tenant``), whose objects are walked, and bravo (``other_tenant``), which walks them."""
    return objects_of(tenant, SECRET_WORD), objects_of(other_tenant, "bravo")


def _clients(outsider: User, other_tenant: Tenant) -> dict[str, Client]:
    session = Client()
    session.force_login(outsider)
    api_session = APIClient()
    api_session.force_login(outsider)
    return {"console": session, "api session": api_session, "api key": api_client(other_tenant)}


@pytest.mark.django_db
def test_another_tenants_staff_reach_none_of_its_objects(
    worlds: tuple[World, World], tenant: Tenant, other_tenant: Tenant, outsider: User
) -> None:
    # given alpha's objects, and staff and an API key of bravo
    alpha, bravo = worlds
    before = _state(tenant)
    clients = _clients(outsider, other_tenant)
    leaks = []
    # when bravo sends every method of every route naming objects, with alpha's
    for probe in _foreign_probes(alpha, bravo):
        kinds = ("api session", "api key") if probe.url.startswith("/api/") else ("console",)
        for kind in kinds:
            response = _send(clients[kind], probe, other_tenant)
            allowed = (403, 404) if probe.refused else (200, 302, 400, 403, 404)
            if response.status_code not in allowed or SECRET_WORD.encode() in response.content:
                leaks.append(f"{probe.method} {probe.url} ({kind}): {response.status_code}")
    # then each is refused, or answered without a word of alpha's, and alpha's objects are as they were
    assert not leaks, "\n".join(leaks)
    assert _state(tenant) == before


@pytest.mark.django_db
def test_a_tenants_own_staff_see_each_of_its_objects(worlds: tuple[World, World], owner: User) -> None:
    """The control of the test above: the URLs it sends name objects that exist, whose pages show
    the word it looks for."""
    # given alpha's objects and its owner
    alpha, _ = worlds
    client = APIClient()
    client.force_login(owner)
    # when the owner opens every page naming them
    pages = [
        _url(name, route, (alpha,) * (len(route.objects) + len(route.query)))
        for name, route in ROUTES.items()
        if (route.objects or route.query) and GET in route.reads + route.writes
    ]
    answers = [(url, client.get(url)) for url in pages]
    # then each shows them
    unseen = [
        f"{url}: {response.status_code}" for url, response in answers if SECRET_WORD.encode() not in response.content
    ]
    assert not unseen, "\n".join(unseen)


def _member(tenant: Tenant, role: Role) -> Client:
    user = UserFactory.create(username=f"{role}-of-{tenant.slug}", is_staff=True)
    MembershipFactory.create(user=user, tenant=tenant, role=role)
    client = APIClient()
    client.force_login(user)
    return client


def _own_probes(alpha: World) -> Iterator[tuple[Probe, Role]]:
    """Each changing method of each route with alpha's own objects, for each role that may not use it."""
    for name, route in ROUTES.items():
        url = route.path(name, {parameter: alpha[kind] for parameter, kind in route.objects.items()})
        for method, role in itertools.product(route.writes, REFUSED_ROLES[route.who]):
            yield Probe(name, method, url), role


@pytest.mark.django_db
def test_roles_below_a_routes_own_are_refused(worlds: tuple[World, World], tenant: Tenant, owner: User) -> None:
    # given alpha's objects and a member of each role
    alpha, _ = worlds
    before = _state(tenant)
    members = {role: _member(tenant, role) for role in (Role.AGENT, Role.ANALYST)}
    # when each role sends what it may not send
    answers = [(probe, role, _send(members[role], probe, tenant).status_code) for probe, role in _own_probes(alpha)]
    # then each is refused and nothing changed
    let_through = [f"{probe.method} {probe.url} ({role}): {status}" for probe, role, status in answers if status != 403]
    assert not let_through, "\n".join(let_through)
    assert _state(tenant) == before


def _own_urls(alpha: World) -> Iterator[tuple[str, Route, str]]:
    for name, route in ROUTES.items():
        yield name, route, route.path(name, {parameter: alpha[kind] for parameter, kind in route.objects.items()})


@pytest.mark.django_db
def test_anonymous_requests_reach_nothing(worlds: tuple[World, World], tenant: Tenant) -> None:
    # given alpha's objects and a client that is not logged in
    alpha, _ = worlds
    before = _state(tenant)
    client = APIClient()
    # when it sends every method of every route
    answers = [
        (method, url, _send(client, Probe(name, method, url), tenant))
        for name, route, url in _own_urls(alpha)
        for method in route.reads + route.writes
    ]
    # then the console sends it to log in, the API refuses it, and nothing changed
    let_through = [
        f"{method} {url}: {response.status_code}"
        for method, url, response in answers
        if not (
            (response.status_code in (401, 403) and url.startswith("/api/"))
            or (response.status_code == 302 and response["Location"].startswith("/console/login/"))
        )
    ]
    assert not let_through, "\n".join(let_through)
    assert _state(tenant) == before


@pytest.mark.django_db
def test_changes_without_a_csrf_token_are_refused(worlds: tuple[World, World], tenant: Tenant, owner: User) -> None:
    # given alpha's owner logged in to a browser that checks CSRF, as a real one does
    alpha, _ = worlds
    before = _state(tenant)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    # when another site's page makes that browser post to every route that changes something
    answers = [
        (method, url, _send(client, Probe(name, method, url), tenant).status_code)
        for name, route, url in _own_urls(alpha)
        for method in route.writes
        if method != GET
    ]
    # then each is refused and nothing changed
    let_through = [f"{method} {url}: {status}" for method, url, status in answers if status != 403]
    assert not let_through, "\n".join(let_through)
    assert _state(tenant) == before
