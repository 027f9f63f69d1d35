"""Companies: domain normalization, free-mail exclusion, keys, names and deterministic ids."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeyline.crm.companies import (
    CompanyKey,
    company_from,
    company_id,
    company_name_key,
    group_key_of,
    is_free_mail,
    name_from_domain,
    normalize_domain,
    upsert_company,
)
from journeyline.ids import deterministic_id

TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_TENANT = uuid.UUID("00000000-0000-4000-8000-000000000002")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.io", "acme.io"),
        ("  ACME.IO  ", "acme.io"),
        ("https://www.acme.io", "acme.io"),
        ("http://WWW.Acme.io:8080/about?x=1#team", "acme.io"),
        ("acme.io.", "acme.io"),
        ("acme.io/", "acme.io"),
        ("//acme.io", "acme.io"),
        ("ftp://user:secret@files.acme.io", "files.acme.io"),
        ("jane@acme.io", "acme.io"),
        ("shop.acme.co.uk", "shop.acme.co.uk"),
        ("www.com", "www.com"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("https://www.bücher.de/katalog", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("", None),
        ("   ", None),
        ("acme", None),
        ("localhost", None),
        ("www.", None),
        ("acme..io", None),
        ("-acme.io", None),
        ("acme-.io", None),
        ("ac me.io", None),
        ("under_score.io", None),
        ("192.168.0.1", None),
        ("acme.123", None),
        ("shop.test", None),
        ("acme.example", None),
        ("acme.invalid", None),
        ("acme.local", None),
        ("a" * 64 + ".io", None),
        (("a" * 60 + ".") * 5 + "io", None),
    ],
)
def test_normalize_domain(raw: str, expected: str | None) -> None:
    assert normalize_domain(raw) == expected


@given(st.text(max_size=80))
def test_normalize_domain_never_raises_and_is_ascii_and_idempotent(raw: str) -> None:
    domain = normalize_domain(raw)
    if domain is not None:
        assert domain.isascii()
        assert domain == domain.lower()
        assert normalize_domain(domain) == domain


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.com.br",
        "yahoo.fr",
        "hotmail.fr",
        "outlook.com.br",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.at",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "yandex.com.tr",
        "qq.com",
        "163.com",
        "126.com",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "uol.com.br",
        "bol.com.br",
        "terra.com.br",
        "privaterelay.appleid.com",
        "example.com",
        "example.org",
        "example.co.uk",
        "test.com",
        "mailinator.com",
        "yopmail.com",
    ],
)
def test_free_mail_and_disposable_domains_are_not_companies(domain: str) -> None:
    assert is_free_mail(domain)


@pytest.mark.parametrize(
    "domain",
    ["acme.io", "yahoo.mycompany.com", "gmailer.com", "mygmail.com", "example-corp.com"],
)
def test_company_domains_are_not_free_mail(domain: str) -> None:
    assert not is_free_mail(domain)


def test_a_tenant_can_add_free_mail_domains() -> None:
    assert is_free_mail("isp.example-telecom.net", extra={"isp.example-telecom.net"})
    assert company_from({}, "jane@isp.local-isp.net", extra_free_mail={"isp.local-isp.net"}) is None


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("acme.io", "Acme"),
        ("shop.acme.io", "Acme"),
        ("blue-sky.co.uk", "Blue Sky"),
        ("acme.com.br", "Acme"),
        ("xn--bcher-kva.de", "Bücher"),
        ("3m.com", "3m"),
    ],
)
def test_name_from_domain(domain: str, expected: str) -> None:
    assert name_from_domain(domain) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme", "acme"),
        ("  ACME   Widgets  ", "acme widgets"),
        ("Acme, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("Acme Corp.", "acme"),
        ("Acme GmbH", "acme"),
        ("Acme Ltda", "acme"),
        ("Acme Pty Ltd", "acme"),
        ("Inc", "inc"),
        ("Straße AG", "strasse"),
    ],
)
def test_company_name_key(name: str, expected: str) -> None:
    assert company_name_key(name) == expected


@pytest.mark.parametrize(
    ("attributes", "email", "expected"),
    [
        pytest.param(
            {}, "jane@acme.io", CompanyKey("acme.io", "acme.io", "Acme", False), id="email-domain"
        ),
        pytest.param({}, "jane@gmail.com", None, id="free-mail"),
        pytest.param({}, "jane@example.com", None, id="test-domain"),
        pytest.param({}, None, None, id="nothing"),
        pytest.param({}, "not-an-email", None, id="bad-email"),
        pytest.param(
            {"company": "Acme, Inc."},
            "jane@gmail.com",
            CompanyKey("acme", None, "Acme, Inc.", True),
            id="name-only",
        ),
        pytest.param(
            {"company": "Acme, Inc."},
            "jane@acme.io",
            CompanyKey("acme.io", "acme.io", "Acme, Inc.", True),
            id="name-and-matching-email-domain",
        ),
        pytest.param(
            {"company": "ClientCo"},
            "jane@bigfirm.com",
            CompanyKey("clientco", None, "ClientCo", True),
            id="name-unlike-email-domain-keeps-name",
        ),
        pytest.param(
            {"company_domain": "https://www.acme.io/"},
            "jane@gmail.com",
            CompanyKey("acme.io", "acme.io", "Acme", False),
            id="company-domain",
        ),
        pytest.param(
            {"company": "ClientCo", "company_domain": "clientco.com"},
            "jane@bigfirm.com",
            CompanyKey("clientco.com", "clientco.com", "ClientCo", True),
            id="explicit-domain-beats-email",
        ),
        pytest.param(
            {"company": {"name": "Acme", "domain": "ACME.io"}},
            None,
            CompanyKey("acme.io", "acme.io", "Acme", True),
            id="segment-company-object",
        ),
        pytest.param(
            {"company": {"name": "Acme", "website": "https://acme.io/home"}},
            None,
            CompanyKey("acme.io", "acme.io", "Acme", True),
            id="company-object-website",
        ),
        pytest.param(
            {"website": "acme.io"},
            None,
            CompanyKey("acme.io", "acme.io", "Acme", False),
            id="website",
        ),
        pytest.param(
            {"companyName": "Acme", "companyDomain": "acme.io"},
            None,
            CompanyKey("acme.io", "acme.io", "Acme", True),
            id="camel-case",
        ),
        pytest.param(
            {"company_domain": "gmail.com"}, "jane@gmail.com", None, id="free-mail-as-domain"
        ),
        pytest.param(
            {"company_domain": "not a domain"},
            "jane@acme.io",
            CompanyKey("acme.io", "acme.io", "Acme", False),
            id="bad-domain-falls-back-to-email",
        ),
        pytest.param({"company": "n/a"}, "jane@gmail.com", None, id="no-company-answer"),
        pytest.param({"company": "Self-employed"}, None, None, id="self-employed"),
        pytest.param({"company": "   "}, None, None, id="blank"),
        pytest.param({"company": 42}, None, None, id="wrong-type"),
        pytest.param(
            {"company": "  Acme   Widgets "},
            None,
            CompanyKey("acme widgets", None, "Acme Widgets", True),
            id="spaces-collapsed",
        ),
        # The group key (`company.id`) is kept beside a name or a domain given with it.
        pytest.param(
            {"company": {"id": "acme", "name": "Acme Co"}},
            None,
            CompanyKey("acme", None, "Acme Co", True, "acme"),
            id="described-by-name",
        ),
        pytest.param(
            {"company": {"id": "acme", "domain": "acme.io"}},
            "jane@gmail.com",
            CompanyKey("acme.io", "acme.io", "Acme", False, "acme"),
            id="described-by-domain",
        ),
        # Only the key: nothing to name a company by (the CRM looks the key up instead).
        pytest.param({"company": {"id": "acme"}}, "jane@gmail.com", None, id="bare-key"),
        # A company guessed from the email does not take the key: a consultant's employer is
        # not the client's group.
        pytest.param(
            {"company": {"id": "client-co"}},
            "jane@bigfirm.com",
            CompanyKey("bigfirm.com", "bigfirm.com", "Bigfirm", False),
            id="email-domain-keeps-no-key",
        ),
    ],
)
def test_company_from(
    attributes: dict[str, object], email: str | None, expected: CompanyKey | None
) -> None:
    assert company_from(attributes, email) == expected


def test_company_id_is_deterministic_per_tenant_and_key() -> None:
    assert company_id(TENANT, "acme.io") == deterministic_id(TENANT, "company", "acme.io")
    assert company_id(TENANT, "acme.io") == company_id(TENANT, "acme.io")
    assert company_id(TENANT, "acme.io") != company_id(OTHER_TENANT, "acme.io")
    assert company_id(TENANT, "acme.io") != company_id(TENANT, "acme")


def test_same_company_from_email_and_website_has_one_id() -> None:
    from_email = company_from({}, "jane@Acme.io")
    from_website = company_from({"website": "https://www.acme.io/pricing"}, None)
    assert from_email is not None
    assert from_website is not None
    assert company_id(TENANT, from_email.key) == company_id(TENANT, from_website.key)


def test_upsert_company_creates_with_deterministic_id() -> None:
    company = upsert_company(TENANT, CompanyKey("acme.io", "acme.io", "Acme", False))
    assert company.id == company_id(TENANT, "acme.io")
    assert (company.name, company.name_given) == ("Acme", False)


def test_upsert_company_given_name_replaces_derived_one() -> None:
    derived = upsert_company(TENANT, CompanyKey("acme.io", "acme.io", "Acme", False))
    named = upsert_company(
        TENANT, CompanyKey("acme.io", "acme.io", "Acme Widgets Ltd", True), derived
    )
    assert (named.id, named.name, named.name_given) == (derived.id, "Acme Widgets Ltd", True)


@pytest.mark.parametrize(
    "incoming",
    [
        CompanyKey("acme.io", "acme.io", "ACME Corporation", True),
        CompanyKey("acme.io", "acme.io", "Acme", False),
    ],
)
def test_upsert_company_keeps_the_first_given_name(incoming: CompanyKey) -> None:
    first = upsert_company(TENANT, CompanyKey("acme.io", "acme.io", "Acme Widgets", True))
    assert upsert_company(TENANT, incoming, first) == first


def test_upsert_company_learns_a_domain_it_lacked() -> None:
    by_name = upsert_company(TENANT, CompanyKey("acme", None, "Acme", True))
    updated = upsert_company(TENANT, CompanyKey("acme", "acme.io", "Acme", True), by_name)
    assert updated.domain == "acme.io"
    assert updated.id == by_name.id


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"company": {"id": "acme"}}, "acme"),
        ({"company": {"id": "  acme  ", "name": "Acme"}}, "acme"),
        ({"company": {"id": 42}}, "42"),
        ({"company": {"id": True}}, None),
        ({"company": {"id": ""}}, None),
        ({"company": {"id": "x" * 256}}, None),
        ({"company": {"name": "Acme"}}, None),
        ({"company": "Acme"}, None),
        ({}, None),
    ],
)
def test_group_key_of(attributes: dict[str, object], expected: str | None) -> None:
    assert group_key_of(attributes) == expected


def test_upsert_company_keeps_the_first_group_key_and_learns_one_it_lacked() -> None:
    unkeyed = upsert_company(TENANT, CompanyKey("acme.io", "acme.io", "Acme", False))
    keyed = upsert_company(TENANT, CompanyKey("acme.io", "acme.io", "Acme", False, "acme"), unkeyed)
    assert keyed.group_key == "acme"
    again = upsert_company(TENANT, CompanyKey("acme.io", "acme.io", "Acme", False, "other"), keyed)
    assert again.group_key == "acme"
