"""Which company a person belongs to: normalized domains, free-mail exclusion, company keys."""

from __future__ import annotations

import contextlib
import re
import unicodedata
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from journeyline.ids import deterministic_id

# Mailbox providers: an address there says nothing about the employer. Exact domains; the
# families below add the regional variants (yahoo.co.uk, hotmail.fr, gmx.at, yandex.kz, …).
FREE_MAIL_DOMAINS: Final[frozenset[str]] = frozenset(
    {
        # Google, Microsoft, Apple, Yahoo/AOL
        "gmail.com", "googlemail.com",
        "outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com", "windowslive.com",
        "icloud.com", "me.com", "mac.com", "privaterelay.appleid.com",
        "yahoo.com", "ymail.com", "rocketmail.com", "aol.com", "aim.com",
        # privacy and paid mailboxes
        "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tutanota.de",
        "tuta.io", "tuta.com", "hushmail.com", "fastmail.com", "fastmail.fm", "hey.com",
        "duck.com", "zoho.com", "zohomail.com", "mail.com", "email.com", "inbox.com",
        "gmx.com", "gmx.net", "mailbox.org", "posteo.de", "runbox.com",
        # Europe
        "web.de", "t-online.de", "freenet.de", "arcor.de", "orange.fr", "wanadoo.fr", "free.fr",
        "laposte.net", "sfr.fr", "neuf.fr", "libero.it", "virgilio.it", "tiscali.it", "alice.it",
        "tin.it", "seznam.cz", "centrum.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
        "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com", "talktalk.net",
        "blueyonder.co.uk", "telenet.be", "skynet.be", "ziggo.nl", "kpnmail.nl", "bluewin.ch",
        "telia.com", "online.no", "abv.bg", "ukr.net", "i.ua",
        # Russia and CIS
        "mail.ru", "bk.ru", "inbox.ru", "list.ru", "internet.ru", "rambler.ru", "ya.ru",
        # Asia
        "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn",
        "sohu.com", "139.com", "aliyun.com", "naver.com", "daum.net", "hanmail.net",
        "rediffmail.com", "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp",
        # the Americas and Oceania
        "uol.com.br", "bol.com.br", "terra.com.br", "ig.com.br", "globo.com", "globomail.com",
        "r7.com", "zipmail.com.br", "oi.com.br", "prodigy.net.mx", "comcast.net", "verizon.net",
        "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net", "earthlink.net",
        "optonline.net", "juno.com", "shaw.ca", "rogers.com", "sympatico.ca", "bigpond.com",
        "optusnet.com.au", "xtra.co.nz",
    }
)  # fmt: skip

# Providers with a domain per country: `<label>.<suffix>` where every suffix label is short
# (a ccTLD or com/co/net), so yahoo.com.br matches but yahoo.mycompany.com does not.
FREE_MAIL_FAMILIES: Final[frozenset[str]] = frozenset(
    {"yahoo", "hotmail", "outlook", "live", "gmx", "yandex", "aol", "libero", "orange"}
)

# Throwaway inboxes and reserved test names: never a customer's company.
DISPOSABLE_DOMAINS: Final[frozenset[str]] = frozenset(
    {
        "example.com", "example.org", "example.net", "example.edu", "test.com", "test.org",
        "test.net", "testing.com", "domain.com", "email.test", "localhost.localdomain",
        "mailinator.com", "guerrillamail.com", "guerrillamail.net", "sharklasers.com",
        "grr.la", "10minutemail.com", "temp-mail.org", "tempmail.com", "tempmail.net",
        "throwawaymail.com", "yopmail.com", "yopmail.fr", "trashmail.com", "getnada.com",
        "maildrop.cc", "dispostable.com", "fakeinbox.com", "mailnesia.com", "mintemail.com",
        "spamgourmet.com", "mohmal.com", "emailondeck.com", "burnermail.io",
    }
)  # fmt: skip

# RFC 2606 / RFC 6761 names that can never be a real company's domain.
RESERVED_TLDS: Final[frozenset[str]] = frozenset(
    {"test", "example", "invalid", "localhost", "local", "localdomain", "internal"}
)

# Second-level labels under a ccTLD that are public suffixes (acme.co.uk names "acme").
_GENERIC_SECOND_LEVEL: Final[frozenset[str]] = frozenset(
    {"co", "com", "net", "org", "gov", "edu", "ac", "gob", "ltd", "plc", "ne", "or", "go"}
)

# Values that mean "no company" when a form asks for one.
_NO_COMPANY: Final[frozenset[str]] = frozenset(
    {
        "", "-", "--", ".", "n/a", "na", "none", "null", "nil", "undefined", "unknown", "test",
        "[object object]", "nan", "self", "self-employed", "self employed", "freelance",
        "freelancer", "independent", "personal", "private", "student", "retired", "unemployed",
    }
)  # fmt: skip

# Trailing legal forms dropped from a name key, so "Acme, Inc." and "ACME" are one company.
_LEGAL_FORMS: Final[frozenset[str]] = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "plc",
        "gmbh", "ag", "kg", "sa", "s/a", "sas", "sarl", "srl", "spa", "bv", "nv", "ab", "oy",
        "pty", "ltda", "eireli", "epp", "kk", "co",
    }
)  # fmt: skip

_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SPACES: Final = re.compile(r"\s+")
_NAME_EDGE_PUNCTUATION: Final = " ,.;:-"
MAX_DOMAIN_LENGTH: Final = 253
MAX_NAME_LENGTH: Final = 255


@dataclass(frozen=True, slots=True)
class CompanyKey:
    """A company as one person's attributes describe it."""

    key: str  # the normalized domain, else the normalized name
    domain: str | None
    name: str
    name_given: bool  # False when the name was derived from the domain
    # The group key given beside the name or domain (`company.id`), if any.
    group_key: str | None = None


@dataclass(frozen=True, slots=True)
class Company:
    id: uuid.UUID
    key: str
    domain: str | None
    name: str
    name_given: bool
    # The first group key a person gave with this company: a person naming only that key
    # belongs here (`group_key_of`).
    group_key: str | None = None


def company_id(tenant_id: uuid.UUID, key: str) -> uuid.UUID:
    return deterministic_id(tenant_id, "company", key)


def normalize_domain(raw: str) -> str | None:
    """`https://WWW.Acme.io:443/about` → `acme.io`; None when it is not a public host name.

    Unicode names become their ASCII (punycode) form, so `bücher.de` and `xn--bcher-kva.de` are
    one key.
    """
    value = raw.strip().lower()
    value = _SCHEME.sub("", value).removeprefix("//")  # also protocol-relative //acme.io
    value = value.rsplit("@", 1)[-1]  # an address or `user:pass@host`: keep the host
    for separator in "/?#":
        value = value.split(separator, 1)[0]
    value = value.split(":", 1)[0].rstrip(".")
    if value.startswith("www.") and "." in value[4:]:  # www.com itself is a domain
        value = value[4:]
    if not value or len(value) > MAX_DOMAIN_LENGTH:
        return None
    try:
        value = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = value.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    top = labels[-1]
    # An IP address or a numeric TLD is a host, not a company's domain.
    if not (top.isalpha() or top.startswith("xn--")) or top in RESERVED_TLDS:
        return None
    return value


def is_free_mail(domain: str, extra: Collection[str] = ()) -> bool:
    """Is `domain` (normalized) a mailbox provider or a throwaway/test domain?"""
    if domain in FREE_MAIL_DOMAINS or domain in DISPOSABLE_DOMAINS or domain in extra:
        return True
    first, *suffix = domain.split(".")
    # example.co.uk is as reserved as example.com, whatever the country.
    return (first in FREE_MAIL_FAMILIES or first == "example") and _is_country_suffix(suffix)


def _is_country_suffix(labels: list[str]) -> bool:
    """`com`, `fr`, `co.uk`, `com.br`: short labels only, so `yahoo.mycompany.com` is not."""
    return 1 <= len(labels) <= 2 and all(len(label) <= 3 for label in labels)


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return normalize_domain(email.rsplit("@", 1)[1])


def normalize_company_name(raw: str) -> str | None:
    """Display form: NFKC, whitespace collapsed; None for blanks and "no company" answers."""
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip()
    if name.casefold() in _NO_COMPANY or len(name) > MAX_NAME_LENGTH:
        return None
    return name


def company_name_key(name: str) -> str:
    """Key form of a display name: casefolded, legal forms and edge punctuation dropped."""
    words = name.casefold().replace(",", " ").split()
    while len(words) > 1 and words[-1].strip(".") in _LEGAL_FORMS:
        words.pop()
    return " ".join(words).strip(_NAME_EDGE_PUNCTUATION) or name.casefold()


def _registrable_label(domain: str) -> str:
    labels = domain.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _GENERIC_SECOND_LEVEL:
        return labels[-3]
    return labels[-2]


def name_from_domain(domain: str) -> str:
    """`acme.io` → `Acme`, `blue-sky.co.uk` → `Blue Sky`, `xn--bcher-kva.de` → `Bücher`."""
    label = _registrable_label(domain)
    if label.startswith("xn--"):
        with contextlib.suppress(UnicodeError):  # not valid punycode: show it as it is
            label = label.encode("ascii").decode("idna")
    return " ".join(part.capitalize() for part in label.split("-") if part) or label


def _squashed(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _domain_matches_name(domain: str, name: str) -> bool:
    """Does the email domain plausibly belong to the named company (acme.com ↔ "Acme Inc")?"""
    label, squashed = _squashed(name_from_domain(domain)), _squashed(name)
    return bool(label) and bool(squashed) and (label in squashed or squashed in label)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _first_domain(*candidates: object) -> str | None:
    for candidate in candidates:
        text = _text(candidate)
        domain = normalize_domain(text) if text else None
        if domain is not None:
            return domain
    return None


def group_key_of(attributes: Mapping[str, object]) -> str | None:
    """The group key of a person's company (`company.id`: a Segment groupId, a PostHog group
    key), trimmed; None without one or past MAX_NAME_LENGTH characters."""
    raw_company = attributes.get("company")
    raw = raw_company.get("id") if isinstance(raw_company, Mapping) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    key = raw.strip() if isinstance(raw, str) else ""
    return key if key and len(key) <= MAX_NAME_LENGTH else None


def company_from(
    attributes: Mapping[str, object],
    email: str | None,
    *,
    extra_free_mail: Collection[str] = (),
) -> CompanyKey | None:
    """The company of a person with these profile attributes and primary email, if any.

    An explicit domain (`company.domain`, `company_domain`, `company.website`, `website`) wins.
    Without one, the email's domain is used unless it is free-mail or, when a company name was
    given, unless it does not resemble that name: a consultant at bigfirm.com who types
    "ClientCo" must not rename bigfirm.com's company.
    """
    raw_company = attributes.get("company")
    nested: Mapping[str, object] = raw_company if isinstance(raw_company, Mapping) else {}
    raw_name = (
        _text(raw_company)
        or _text(nested.get("name"))
        or _text(attributes.get("company_name"))
        or _text(attributes.get("companyName"))
    )
    name = normalize_company_name(raw_name) if raw_name else None
    domain = _first_domain(
        nested.get("domain"),
        attributes.get("company_domain"),
        attributes.get("companyDomain"),
        nested.get("website"),
        attributes.get("website"),
    )
    if domain is not None and is_free_mail(domain, extra_free_mail):
        domain = None
    # A group key describes the company only beside its name or domain: never one guessed
    # from the email (a consultant's employer is not the client's group).
    group_key = group_key_of(attributes) if name is not None or domain is not None else None
    if domain is None:
        from_email = email_domain(email)
        if (
            from_email is not None
            and not is_free_mail(from_email, extra_free_mail)
            and (name is None or _domain_matches_name(from_email, name))
        ):
            domain = from_email
    if domain is not None:
        given = name is not None
        return CompanyKey(domain, domain, name or name_from_domain(domain), given, group_key)
    if name is not None:
        return CompanyKey(company_name_key(name), None, name, True, group_key)
    return None


def upsert_company(
    tenant_id: uuid.UUID, incoming: CompanyKey, existing: Company | None = None
) -> Company:
    """The company row after one more person named it.

    A given name replaces one derived from the domain; between given names the first one stays,
    so two people spelling their employer differently do not flip the row back and forth. The
    first group key stays too.
    """
    if existing is None:
        return Company(
            company_id(tenant_id, incoming.key),
            incoming.key,
            incoming.domain,
            incoming.name,
            incoming.name_given,
            incoming.group_key,
        )
    replace_name = incoming.name_given and not existing.name_given
    return Company(
        existing.id,
        existing.key,
        existing.domain or incoming.domain,
        incoming.name if replace_name else existing.name,
        existing.name_given or incoming.name_given,
        existing.group_key or incoming.group_key,
    )
