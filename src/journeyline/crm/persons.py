"""Persons: the CRM row of each anchor profile, and its lifecycle stage from its deals."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from journeyline.crm.companies import CompanyKey, company_from, group_key_of
from journeyline.crm.deals import Deal
from journeyline.identity.normalize import normalize_email
from journeyline.statuses import LifecycleStage, ProfileStatus

LIFECYCLE_STAGES: Final[tuple[LifecycleStage, ...]] = (
    "lead",
    "opportunity",
    "customer",
    "churned",
)
MAX_FIELD_LENGTH: Final = 255

_SPACES: Final = re.compile(r"\s+")
# What forms put in name fields when the visitor typed nothing useful.
_NO_VALUE: Final[frozenset[str]] = frozenset(
    {"", "-", "null", "none", "undefined", "nan", "n/a", "na", "[object object]", "unknown"}
)
_FULL_NAME_KEYS: Final = ("full_name", "fullName")
_FIRST_NAME_KEYS: Final = ("first_name", "firstName")
_LAST_NAME_KEYS: Final = ("last_name", "lastName")
_TITLE_KEYS: Final = ("title", "job_title", "jobTitle")


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """What the CRM needs of a profile. `emails`/`phones` are its normalized identifiers, oldest
    first."""

    id: uuid.UUID
    status: ProfileStatus
    attributes: Mapping[str, object]
    emails: Sequence[str] = ()
    phones: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class CommerceState:
    """The commercial history of a person, as far as the lifecycle stage needs it."""

    has_open_deal: bool = False  # open or at checkout
    has_live_won_deal: bool = False  # won, not cancelled, not of a cancelled subscription
    has_ended_won_deal: bool = False  # won once, since refunded or cancelled


@dataclass(frozen=True, slots=True)
class PersonFields:
    profile_id: uuid.UUID  # a person's id is its anchor profile's id: one person per anchor
    name: str | None
    email: str | None
    phone: str | None
    title: str | None
    company: CompanyKey | None
    lifecycle_stage: LifecycleStage
    # The group key the person's company attribute names (`company.id`): with no company of
    # its own (only the key), the person joins the company described with that key.
    group_key: str | None = None


def commerce_state(deals: Iterable[Deal]) -> CommerceState:
    """Summarize a person's deals. A payment that belongs to a cancelled subscription ended with
    it: otherwise the first invoice of every subscription would keep its buyer a customer."""
    deals = list(deals)
    cancelled_subscriptions = {
        deal.subscription_id
        for deal in deals
        if deal.kind == "subscription" and deal.cancelled and deal.subscription_id
    }
    live = ended = has_open = False
    for deal in deals:
        if deal.stage in ("open", "checkout"):
            has_open = True
        elif deal.stage == "refunded":
            ended = True
        elif deal.stage == "won":
            if deal.cancelled or deal.subscription_id in cancelled_subscriptions:
                ended = True
            else:
                live = True
    return CommerceState(has_open, live, ended)


def lifecycle_stage(state: CommerceState) -> LifecycleStage:
    """customer > opportunity > churned > lead: a paying person is a customer whatever else is
    open; a former customer with a new cart is an opportunity again, not churned."""
    if state.has_live_won_deal:
        return "customer"
    if state.has_open_deal:
        return "opportunity"
    if state.has_ended_won_deal:
        return "churned"
    return "lead"


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if text.casefold() in _NO_VALUE:
        return None
    return text[:MAX_FIELD_LENGTH]


def _first_text(attributes: Mapping[str, object], keys: Iterable[str]) -> str | None:
    for key in keys:
        text = _clean(attributes.get(key))
        if text is not None:
            return text
    return None


def person_name(attributes: Mapping[str, object]) -> str | None:
    """`name`, else first and last name, else `full_name`."""
    name = _clean(attributes.get("name"))
    if name is not None:
        return name
    parts = [
        part
        for part in (
            _first_text(attributes, _FIRST_NAME_KEYS),
            _first_text(attributes, _LAST_NAME_KEYS),
        )
        if part is not None
    ]
    if parts:
        return " ".join(parts)[:MAX_FIELD_LENGTH]
    return _first_text(attributes, _FULL_NAME_KEYS)


def primary_email(attributes: Mapping[str, object], emails: Sequence[str]) -> str | None:
    """The email the person last gave (attributes) when it is one of their identifiers, else
    their first. An attribute email that is not an identifier was blocked or invalid."""
    raw = attributes.get("email")
    given = normalize_email(raw) if isinstance(raw, str) else None
    if given is not None and given in emails:
        return given
    return emails[0] if emails else None


def person_from(
    profile: ProfileFacts,
    commerce: CommerceState | None = None,
    *,
    extra_free_mail: Collection[str] = (),
) -> PersonFields | None:
    """The CRM person of a profile; None for shadows (nobody to call) and merged profiles (their
    survivor's person stands for them)."""
    if profile.status != "anchor":
        return None
    email = primary_email(profile.attributes, profile.emails)
    return PersonFields(
        profile_id=profile.id,
        name=person_name(profile.attributes),
        email=email,
        phone=profile.phones[0] if profile.phones else None,
        title=_first_text(profile.attributes, _TITLE_KEYS),
        company=company_from(profile.attributes, email, extra_free_mail=extra_free_mail),
        lifecycle_stage=lifecycle_stage(commerce or CommerceState()),
        group_key=group_key_of(profile.attributes),
    )
