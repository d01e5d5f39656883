"""Receivers switched off: a Slack or webhook receiver that answered 410 Gone gets nothing more.

``receiver_switch_off`` records when and why on the tenant's policy (one warning); from then on no
delivery is made for the channel (``dispatch.channels_for`` leaves it out, ``dispatch.deliver`` fails one
already queued without sending) until an owner or admin switches it back on from the inbox
(``receiver_switch_on``) or enters a new address for it (``receivers_readdressed``; the policy admin saves
through ``policy_save_changes``, which never writes a stale switch-off state back). A 410 from an address
staff replaced meanwhile is the old receiver's: it switches nothing off, and the notification goes to the
new address (``receiver_gone``).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from escalations.models import Channel, EscalationPolicy
from supportai.crypto import DecryptionError
from supportai.models import Tenant

logger = logging.getLogger(__name__)
# The channels a receiver's 410 switches off, with the policy field holding the receiver's address.
SWITCHABLE: dict[str, str] = {Channel.SLACK: "slack_webhook_url", Channel.WEBHOOK: "webhook_url"}
LABELS: dict[str, str] = {Channel.SLACK: "Slack", Channel.WEBHOOK: "Webhook"}
REASON_CHARS = 300


@dataclass(frozen=True)
class SwitchedOff:
    channel: str
    label: str
    at: datetime
    reason: str


def switched_off(policy: EscalationPolicy) -> list[SwitchedOff]:
    """The policy's receivers switched off, for the inbox to show."""
    return [
        SwitchedOff(channel, LABELS[channel], at, policy.disabled_reason(channel))
        for channel in SWITCHABLE
        if (at := policy.disabled_at(channel)) is not None
    ]


def off_message(policy: EscalationPolicy, channel: str) -> str | None:
    """Why no delivery goes to ``policy``'s ``channel`` (None: it is on)."""
    if channel not in SWITCHABLE or (at := policy.disabled_at(channel)) is None:
        return None
    return f"{channel} notifications switched off since {at.isoformat()}: {policy.disabled_reason(channel)}"


def _address(policy: EscalationPolicy, channel: str) -> str | None:
    try:
        address: str = getattr(policy, SWITCHABLE[channel])
    except DecryptionError:
        return None
    return address


def receivers_readdressed(*, before: EscalationPolicy | None, policy: EscalationPolicy) -> list[SwitchedOff]:
    """Switch back on, in ``policy`` (unsaved), each channel switched off whose address staff changed: the
    410 was the old receiver's, the new one has said nothing. Returns those switched on, each with when it
    had been switched off (what failed since is sent to the new address:
    ``dispatch.deliveries_after_switch_on``, once the policy is saved). An address cleared is no new receiver:
    the channel stays off until one is entered, which then gets what failed since the 410."""
    if before is None:
        return []
    switched_on = []
    for channel in SWITCHABLE:
        at = policy.disabled_at(channel)
        address = _address(policy, channel)
        if at is not None and address and address != _address(before, channel):
            switched_on.append(SwitchedOff(channel, LABELS[channel], at, policy.disabled_reason(channel)))
            setattr(policy, f"{channel}_disabled_at", None)
            setattr(policy, f"{channel}_disabled_reason", "")
            logger.info(
                "%s notifications of tenant %s switched back on: the address changed", channel, policy.tenant_id
            )
    return switched_on


class PolicyDeleted(Exception):
    """The policy being saved was deleted meanwhile (``policy_save_changes``): nothing was written."""


def policy_save_changes(*, policy: EscalationPolicy, fields: Collection[str]) -> list[SwitchedOff]:
    """Save ``fields`` of ``policy`` (an admin form's changes to a row read earlier) and nothing else, under the
    policy's lock: every other field is taken from the row as it is now, so what was written meanwhile stays (a
    receiver's 410 switching it off above all). A receiver off now whose address ``fields`` changes is switched
    back on (``receivers_readdressed``, against the locked row); returns those, for the caller to re-send to in
    the same transaction. Two saves of one new address at once: the second finds it on and switches nothing.
    Raises ``PolicyDeleted`` when the row is gone (deleted since it was read): a save must not bring it back."""
    with transaction.atomic():
        current = EscalationPolicy.objects.select_for_update().filter(pk=policy.pk).first()
        if current is None:
            raise PolicyDeleted(policy.pk)
        for field in EscalationPolicy._meta.concrete_fields:
            if field.name not in fields and not field.primary_key:
                # value_from_object: a secret no key opens is copied as the ciphertext it is
                setattr(policy, field.attname, field.value_from_object(current))
        switched_on = receivers_readdressed(before=current, policy=policy)
        switches = [f"{on.channel}_disabled_{part}" for on in switched_on for part in ("at", "reason")]
        policy.save(update_fields=sorted({*fields, *switches}))
    return switched_on


class Gone(enum.Enum):
    """What a receiver's 410 Gone did (``receiver_gone``)."""

    SWITCHED_OFF = "switched_off"  # the channel's receiver is gone: nothing more is sent there
    ALREADY_OFF = "already_off"  # another delivery's 410 switched it off first (or there is no policy)
    REPLACED = "replaced"  # staff put another address in its place meanwhile: the 410 was the old one's


def receiver_gone(*, tenant: Tenant, channel: str, url: str, reason: str) -> Gone:
    """The receiver at ``url`` answered 410 Gone for ``channel``: switch the channel off for ``tenant`` unless
    it is off already or the policy now names another address (staff replaced it while the delivery was under
    way, and the new one has not answered yet: then nothing is switched off, and the notification goes to it).
    Decided under the policy's lock, so a replacement committed meanwhile is seen."""
    with transaction.atomic():
        policy = EscalationPolicy.objects.for_tenant(tenant).select_for_update().first()
        if policy is None:
            return Gone.ALREADY_OFF
        if _address(policy, channel) != url:
            return Gone.REPLACED
        if policy.disabled_at(channel) is not None:
            return Gone.ALREADY_OFF
        now = timezone.now()
        setattr(policy, f"{channel}_disabled_at", now)
        setattr(policy, f"{channel}_disabled_reason", reason[:REASON_CHARS])
        policy.save(update_fields=[f"{channel}_disabled_at", f"{channel}_disabled_reason"])
    logger.warning(
        "%s notifications of tenant %s switched off: %s; an owner or admin switches them back on in the inbox",
        channel,
        tenant.pk,
        reason[:REASON_CHARS],
    )
    return Gone.SWITCHED_OFF


def receiver_switch_off(*, tenant: Tenant, channel: str, url: str, reason: str) -> bool:
    """``receiver_gone``; True when it switched the channel off."""
    return receiver_gone(tenant=tenant, channel=channel, url=url, reason=reason) is Gone.SWITCHED_OFF


class NoReceiver(Exception):
    """The channel switched off has no address (cleared since, or one no configured key opens): there is nothing to
    switch back on at the same address; a new one entered in the policy admin switches it on
    (``receivers_readdressed``)."""


def receiver_switch_on(*, tenant: Tenant, channel: str) -> datetime | None:
    """Switch ``channel`` back on for ``tenant`` (staff fixed or checked the receiver), under the policy's lock.
    Returns when it had been switched off; None: it was on (two switch-ons at once: the second finds it on).
    Raises ``NoReceiver`` when it has no address: it stays off, so what failed meanwhile waits for a new one."""
    with transaction.atomic():
        policy = EscalationPolicy.objects.for_tenant(tenant).select_for_update().first()
        if policy is None or (at := policy.disabled_at(channel)) is None:
            return None
        if not _address(policy, channel):
            raise NoReceiver(channel)
        setattr(policy, f"{channel}_disabled_at", None)
        setattr(policy, f"{channel}_disabled_reason", "")
        policy.save(update_fields=[f"{channel}_disabled_at", f"{channel}_disabled_reason"])
    logger.info("%s notifications of tenant %s switched back on from the inbox", channel, tenant.pk)
    return at
