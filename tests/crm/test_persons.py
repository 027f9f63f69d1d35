"""Persons: one per anchor profile, its contact fields, company and lifecycle stage."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from journeyline.crm.companies import CompanyKey
from journeyline.crm.deals import Deal
from journeyline.crm.persons import (
    CommerceState,
    ProfileFacts,
    commerce_state,
    lifecycle_stage,
    person_from,
    person_name,
    primary_email,
)
from journeyline.statuses import DealKind, DealStage, LifecycleStage

JANE = uuid.UUID("00000000-0000-4000-8000-00000000000a")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def profile(
    status: Literal["shadow", "anchor", "merged"] = "anchor", **fields: Any
) -> ProfileFacts:
    base = ProfileFacts(id=JANE, status=status, attributes={}, emails=("jane@acme.io",))
    return replace(base, **fields)


def deal(
    stage: DealStage,
    *,
    kind: DealKind = "order",
    cancelled: bool = False,
    subscription_id: str | None = None,
    key: str = "order:1",
) -> Deal:
    return Deal(
        id=uuid.uuid5(uuid.NAMESPACE_URL, key),
        key=key,
        kind=kind,
        stage=stage,
        name=key,
        amount=None,
        currency=None,
        profile_id=JANE,
        company_id=None,
        subscription_id=subscription_id,
        cancelled=cancelled,
        first_seen_at=T0,
        last_activity_at=T0,
        basis_stage=None,
        basis_at=None,
        basis_event_id=None,
    )


@pytest.mark.parametrize("status", ["shadow", "merged"])
def test_only_anchor_profiles_are_persons(status: Literal["shadow", "merged"]) -> None:
    assert person_from(profile(status)) is None


def test_person_from_an_anchor_profile() -> None:
    person = person_from(
        profile(
            attributes={"first_name": "Jane", "last_name": "Doe", "title": "CTO"},
            emails=("jane@acme.io",),
            phones=("+14155550100", "+14155550199"),
        )
    )
    assert person is not None
    assert (person.profile_id, person.name, person.email, person.phone, person.title) == (
        JANE,
        "Jane Doe",
        "jane@acme.io",
        "+14155550100",
        "CTO",
    )
    assert person.company == CompanyKey("acme.io", "acme.io", "Acme", False)
    assert person.lifecycle_stage == "lead"


def test_person_without_contact_fields() -> None:
    person = person_from(profile(emails=(), phones=()))
    assert person is not None
    assert (person.name, person.email, person.phone, person.title, person.company) == (
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("attributes", "name"),
    [
        pytest.param({"name": "Jane Doe"}, "Jane Doe", id="name"),
        pytest.param({"name": "  Jane   Doe "}, "Jane Doe", id="spaces"),
        pytest.param(
            {"name": "J. Doe", "first_name": "Jane", "last_name": "Doe"}, "J. Doe", id="name-first"
        ),
        pytest.param({"first_name": "Jane", "last_name": "Doe"}, "Jane Doe", id="first-last"),
        pytest.param({"firstName": "Jane", "lastName": "Doe"}, "Jane Doe", id="camel-case"),
        pytest.param({"first_name": "Jane"}, "Jane", id="first-only"),
        pytest.param({"last_name": "Doe"}, "Doe", id="last-only"),
        pytest.param(
            {"first_name": "Jane", "full_name": "Jane Q. Doe"}, "Jane", id="parts-before-full"
        ),
        pytest.param({"full_name": "Jane Q. Doe"}, "Jane Q. Doe", id="full-name"),
        pytest.param({"fullName": "Jane Q. Doe"}, "Jane Q. Doe", id="full-name-camel"),
        pytest.param({"name": "undefined", "first_name": "Jane"}, "Jane", id="junk-skipped"),
        pytest.param({"name": ""}, None, id="blank"),
        pytest.param({"name": 42}, None, id="wrong-type"),
        pytest.param({"name": "x" * 300}, "x" * 255, id="truncated"),
        pytest.param({}, None, id="none"),
    ],
)
def test_person_name(attributes: dict[str, object], name: str | None) -> None:
    assert person_name(attributes) == name


@pytest.mark.parametrize(
    ("attributes", "emails", "expected"),
    [
        pytest.param({}, ("a@acme.io", "b@acme.io"), "a@acme.io", id="first-identifier"),
        pytest.param(
            {"email": " B@Acme.io "}, ("a@acme.io", "b@acme.io"), "b@acme.io", id="attribute"
        ),
        pytest.param(
            {"email": "test@test.com"}, ("a@acme.io",), "a@acme.io", id="blocked-attribute"
        ),
        pytest.param({"email": "jane@acme.io"}, (), None, id="not-an-identifier"),
        pytest.param({}, (), None, id="none"),
    ],
)
def test_primary_email(
    attributes: dict[str, object], emails: tuple[str, ...], expected: str | None
) -> None:
    assert primary_email(attributes, emails) == expected


@pytest.mark.parametrize(
    ("attributes", "title"),
    [
        ({"title": "CTO"}, "CTO"),
        ({"job_title": "Head of Sales"}, "Head of Sales"),
        ({"jobTitle": "Engineer"}, "Engineer"),
        ({"title": "n/a", "job_title": "CEO"}, "CEO"),
        ({}, None),
    ],
)
def test_person_title(attributes: dict[str, object], title: str | None) -> None:
    person = person_from(profile(attributes=attributes))
    assert person is not None
    assert person.title == title


@pytest.mark.parametrize(
    ("attributes", "emails", "key"),
    [
        pytest.param({}, ("jane@acme.io",), "acme.io", id="email-domain"),
        pytest.param({}, ("jane@gmail.com",), None, id="free-mail"),
        pytest.param({"company": "Acme"}, ("jane@gmail.com",), "acme", id="named"),
        pytest.param(
            {"email": "jane@acme.io"},
            ("jane@gmail.com", "jane@acme.io"),
            "acme.io",
            id="primary-email-decides",
        ),
    ],
)
def test_person_company(
    attributes: dict[str, object], emails: tuple[str, ...], key: str | None
) -> None:
    person = person_from(profile(attributes=attributes, emails=emails))
    assert person is not None
    assert (person.company.key if person.company else None) == key


def test_tenant_free_mail_domains_apply_to_persons() -> None:
    person = person_from(profile(emails=("jane@isp.net",)), extra_free_mail={"isp.net"})
    assert person is not None
    assert person.company is None


@pytest.mark.parametrize(
    ("state", "stage"),
    [
        (CommerceState(), "lead"),
        (CommerceState(has_open_deal=True), "opportunity"),
        (CommerceState(has_live_won_deal=True), "customer"),
        (CommerceState(has_live_won_deal=True, has_open_deal=True), "customer"),
        (CommerceState(has_live_won_deal=True, has_ended_won_deal=True), "customer"),
        (CommerceState(has_ended_won_deal=True), "churned"),
        (CommerceState(has_ended_won_deal=True, has_open_deal=True), "opportunity"),
    ],
)
def test_lifecycle_stage(state: CommerceState, stage: LifecycleStage) -> None:
    assert lifecycle_stage(state) == stage


@pytest.mark.parametrize(
    ("deals", "stage"),
    [
        pytest.param([], "lead", id="no-deals"),
        pytest.param([deal("lost")], "lead", id="only-lost"),
        pytest.param([deal("open")], "opportunity", id="cart"),
        pytest.param([deal("checkout")], "opportunity", id="checkout"),
        pytest.param([deal("won")], "customer", id="won"),
        pytest.param([deal("refunded")], "churned", id="refunded"),
        pytest.param([deal("won", cancelled=True)], "churned", id="cancelled-order"),
        pytest.param(
            [deal("won", kind="subscription", cancelled=True, subscription_id="s1")],
            "churned",
            id="cancelled-subscription",
        ),
        pytest.param(
            [
                deal("won", kind="subscription", cancelled=True, subscription_id="s1"),
                deal("won", subscription_id="s1", key="order:inv_1"),
            ],
            "churned",
            id="payment-of-cancelled-subscription",
        ),
        pytest.param(
            [
                deal("won", kind="subscription", cancelled=True, subscription_id="s1"),
                deal("won", key="order:2"),
            ],
            "customer",
            id="other-purchase-keeps-customer",
        ),
        pytest.param(
            [deal("refunded"), deal("open", key="order:2")], "opportunity", id="back-with-a-cart"
        ),
    ],
)
def test_lifecycle_stage_from_deals(deals: list[Deal], stage: LifecycleStage) -> None:
    assert lifecycle_stage(commerce_state(deals)) == stage


def test_person_carries_its_lifecycle_stage() -> None:
    person = person_from(profile(), commerce_state([deal("won")]))
    assert person is not None
    assert person.lifecycle_stage == "customer"
