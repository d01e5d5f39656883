"""The websocket load client and the benchmark's server-side split, against a real daphne."""

from __future__ import annotations

import asyncio
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.benchmarks import server_split
from chat.loadtest import run_load
from chat.management.commands import chat_load
from supportai.models import Tenant
from supportai.tests.factories import TenantFactory

ORIGIN = "https://shop.example.com"


def test_load_client_only_targets_this_machine() -> None:
    with pytest.raises(ValueError, match="loopback"):
        asyncio.run(run_load(url="ws://example.com/ws/chat/?key=pk", origin=ORIGIN, sessions=1, questions=[]))


@pytest.mark.slow
def test_load_client_paces_sessions_and_the_server_split_counts_only_this_tenant(
    daphne_server: str, other_tenant: Tenant
) -> None:
    # given a tenant whose widget may run on the load client's origin
    tenant = TenantFactory.create(allowed_origins=[ORIGIN])
    url = daphne_server.replace("http://", "ws://") + f"/ws/chat/?key={tenant.public_key}"
    asyncio.run(run_load(url=url, origin=ORIGIN, sessions=1, questions=["Warm up"]))  # loads the model
    since = timezone.now()

    # when 4 sessions ask 2 questions each, one every 0.4 s in total
    result = asyncio.run(
        run_load(url=url, origin=ORIGIN, sessions=4, questions=["Hello there", "Any news?"], pace_s=1.6)
    )

    # then every question got a streamed answer, timed from the client
    summary = result.summary()
    assert (summary["connect_success"], summary["answers"], summary["errors"]) == (1.0, 8, 0)
    assert len(result.ttfd_ms) == 8 and all(0 < t <= f for t, f in zip(result.ttfd_ms, result.full_ms, strict=True))
    # and the questions were spread evenly (one every 0.4 s), not sent in bursts
    first = min(result.sent_at)
    offsets = sorted(sent - first for sent in result.sent_at)
    assert offsets == pytest.approx([0.0, 0.4, 0.8, 1.2, 1.6, 2.0, 2.4, 2.8], abs=0.25)
    # and the server's stored answers split into provider time and pipeline overhead, for this tenant only
    split = server_split(tenant=tenant, since=since)
    assert split["pipeline_p95_ms"] > 0 and split["provider_p95_ms"] > 0  # the local provider's own time
    assert server_split(tenant=other_tenant, since=since) == dict.fromkeys(split, 0.0)


# Nothing listens on port 1: a run that got past its options would end at once with failed connects.
CLOSED_URL = "ws://127.0.0.1:1/ws/chat/?key=pk_x"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--sessions", "0", "--sessions must be at least 1"),
        ("--sessions", "-5", "--sessions must be at least 1"),
        ("--sessions", "10001", "--sessions must be at most 10,000 (one client process); got 10001"),
        ("--sessions", "1000000000", "--sessions must be at most 10,000 (one client process); got 1000000000"),
        ("--pace", "-1", "--pace: must be a number of seconds, 0 or more; got '-1'"),
        ("--pace", "nan", "--pace: must be a number of seconds, 0 or more; got 'nan'"),
        ("--pace", "inf", "--pace: must be a number of seconds, 0 or more; got 'inf'"),
        ("--hold", "-0.5", "--hold: must be a number of seconds, 0 or more; got '-0.5'"),
        ("--hold", "inf", "--hold: must be a number of seconds, 0 or more; got 'inf'"),
        ("--hold", "soon", "--hold: must be a number of seconds, 0 or more; got 'soon'"),
    ],
)
def test_chat_load_refuses_counts_and_durations_it_cannot_run(option: str, value: str, message: str) -> None:
    # an endless --hold or --pace would keep the sockets open for ever; a negative one means nothing
    with pytest.raises(CommandError) as refused:
        call_command("chat_load", "--url", CLOSED_URL, "--sessions", "1", option, value)
    assert message in str(refused.value)


def test_chat_load_with_no_session_connected_says_so_and_fails() -> None:
    # given no server at the URL (a wrong port, or make run not started)
    out = StringIO()
    # when
    with pytest.raises(CommandError) as refused:
        call_command("chat_load", "--url", CLOSED_URL, "--sessions", "2", "--pace", "0", stdout=out)
    # then the figures are still printed, and the command fails with what to check instead of
    # measuring nothing with status 0
    assert json.loads(out.getvalue())["connect_success"] == 0.0
    assert str(refused.value) == (
        f"no session of 2 connected to {CLOSED_URL} (refused, closed or timed out): "
        "check that the server runs there and that the widget key and --origin are the tenant's"
    )


def test_chat_load_refuses_more_sessions_than_it_may_open_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a shell whose hard limit lets a process open 1,024 files
    monkeypatch.setattr(chat_load.resource, "getrlimit", lambda limit: (1024, 1024))
    # when / then: 2,000 sessions would end as "errors" that are the client's, not the server's
    with pytest.raises(CommandError) as refused:
        call_command("chat_load", "--url", CLOSED_URL, "--sessions", "2000")
    assert str(refused.value) == (
        "--sessions 2000 needs a socket each, and this process may open only 1024 files; "
        "raise the limit (ulimit -n) or run fewer sessions"
    )


def test_chat_load_raises_its_own_soft_file_limit_as_far_as_the_hard_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a soft limit of 1,024 files (a common default of ulimit -n) under a hard limit of 4,096
    limits = {"soft": 1024, "hard": 4096}
    monkeypatch.setattr(chat_load.resource, "getrlimit", lambda limit: (limits["soft"], limits["hard"]))

    def setrlimit(limit: int, values: tuple[int, int]) -> None:
        limits["soft"], limits["hard"] = values

    monkeypatch.setattr(chat_load.resource, "setrlimit", setrlimit)
    # when / then: 2,064 files fit under the hard limit, so the soft one is raised to exactly that
    assert chat_load.open_file_limit(2064) == 2064
    assert limits == {"soft": 2064, "hard": 4096}
    # and 10,064 do not: it goes as far as the hard limit and says so
    assert chat_load.open_file_limit(10_064) == 4096
    assert limits == {"soft": 4096, "hard": 4096}
