"""The demo shop: its campaigns, catalogue, pages, Stripe offers and its customers' names."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from journeyline.demo.stripe_events import StripePlan

SITE: Final = "https://shop.trailhead.example"
SHOP_NAME: Final = "Trailhead Outfitters"
CURRENCY: Final = "USD"
ANONYMOUS_VISITORS: Final = 25


@dataclass(frozen=True, slots=True)
class Campaign:
    name: str
    source: str
    medium: str
    referrer: str
    landing: str


@dataclass(frozen=True, slots=True)
class Arrival:
    """How a visit starts: a campaign's link, else a plain referrer (None: typed in)."""

    campaign: Campaign | None
    referrer: str | None
    landing: str


SUMMER_SALE: Final = Campaign(
    "summer_sale", "google", "cpc", "https://www.google.com/", "/collections/summer-sale"
)
BRAND_SEARCH: Final = Campaign("brand_search", "bing", "cpc", "https://www.bing.com/", "/")
TRAIL_LAUNCH: Final = Campaign(
    "trail_launch", "instagram", "social", "https://l.instagram.com/", "/products/trail-runner-gtx"
)
WEEKLY_DIGEST: Final = Campaign(
    "weekly_digest", "newsletter", "email", "https://mail.google.com/", "/collections/new-arrivals"
)
CAMPAIGNS: Final = (SUMMER_SALE, BRAND_SEARCH, TRAIL_LAUNCH, WEEKLY_DIGEST)

ORGANIC: Final = Arrival(None, "https://www.google.com/", "/blog/layering-guide")
DIRECT: Final = Arrival(None, None, "/")
REFERRAL: Final = Arrival(
    None, "https://trailnotes.example/best-daypacks", "/products/summit-daypack-24l"
)


def arrival_by(campaign: Campaign) -> Arrival:
    return Arrival(campaign, campaign.referrer, campaign.landing)


# How anonymous visitors arrive, and how often (the newsletter reaches few who are not on it).
ANONYMOUS_ARRIVALS: Final = (
    (arrival_by(SUMMER_SALE), 5),
    (arrival_by(BRAND_SEARCH), 3),
    (arrival_by(TRAIL_LAUNCH), 4),
    (arrival_by(WEEKLY_DIGEST), 1),
    (ORGANIC, 3),
    (DIRECT, 2),
    (REFERRAL, 2),
)


@dataclass(frozen=True, slots=True)
class Product:
    # The shop runs on Shopify, so its tracker names products by their Shopify ids: the
    # storefront's views and Shopify's orders describe the same catalogue entries.
    product_id: int
    variant_id: int
    sku: str
    name: str
    handle: str
    category: str
    price: Decimal


PRODUCTS: Final = (
    Product(8222223204662, 44872881439030, "TH-TRG-01", "Trail Runner GTX", "trail-runner-gtx", "Footwear", Decimal("139.00")),
    Product(8222223204718, 44872881439112, "TH-MRH-02", "Merino Hoodie", "merino-hoodie", "Apparel", Decimal("89.00")),
    Product(8222223204805, 44872881439254, "TH-SSJ-03", "Storm Shell Jacket", "storm-shell-jacket", "Jackets", Decimal("189.00")),
    Product(8222223204911, 44872881439377, "TH-SDP-04", "Summit Daypack 24L", "summit-daypack-24l", "Packs", Decimal("79.00")),
    Product(8222223205027, 44872881439401, "TH-WHS-05", "Wool Hiking Socks (3-pack)", "wool-hiking-socks", "Accessories", Decimal("24.00")),
    Product(8222223205133, 44872881439529, "TH-IBT-06", "Insulated Bottle 750 ml", "insulated-bottle", "Accessories", Decimal("32.00")),
    Product(8222223205249, 44872881439643, "TH-CTP-07", "Carbon Trekking Poles", "carbon-trekking-poles", "Gear", Decimal("119.00")),
    Product(8222223205351, 44872881439788, "TH-DCV-08", "Down Camp Vest", "down-camp-vest", "Apparel", Decimal("129.00")),
)  # fmt: skip

PAGES: Final = (
    ("/", SHOP_NAME),
    ("/collections/summer-sale", "Summer Sale"),
    ("/collections/new-arrivals", "New Arrivals"),
    ("/collections/footwear", "Footwear"),
    ("/collections/jackets", "Jackets"),
    ("/blog/layering-guide", "How to Layer for the Trail"),
    ("/pages/workshops", "Workshops and Guided Hikes"),
    ("/pages/club", "Trailhead Club"),
)

# Sold through Stripe payment links: workshops (one-off) and the members' club (monthly).
WORKSHOPS: Final = (
    ("Navigation Basics Workshop", 4500),
    ("Guided Summit Hike", 12000),
    ("Wilderness First Aid Course", 19500),
)
CLUB: Final = StripePlan(
    price_id="price_1PqClubMonthlyTrailhead0",
    product_id="prod_QhClubTrailhd",
    nickname="Trailhead Club Monthly",
    unit_amount=1200,
    currency="usd",
    interval="month",
)
CLUB_FEEDBACK: Final = "too_expensive"

FIRST_NAMES: Final = (
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Priya", "Lucas", "Chloe", "Mateo",
    "Hana", "Owen", "Sofia", "Jonas", "Amara", "Felix", "Leila", "Marco", "Nina", "Theo",
)  # fmt: skip
LAST_NAMES: Final = (
    "Patel", "Nguyen", "Garcia", "Okafor", "Rossi", "Silva", "Chen", "Novak", "Larsen", "Haddad",
    "Moreau", "Tanaka", "Walsh", "Ortiz", "Fischer", "Bianchi", "Kowalski", "Adams", "Dubois", "Singh",
)  # fmt: skip
# Microsoft's documented fictional companies: work domains that look real and name no customer.
COMPANIES: Final = (
    ("Contoso", "contoso.com"),
    ("Fabrikam", "fabrikam.com"),
    ("Northwind Traders", "northwindtraders.com"),
    ("Tailspin Toys", "tailspintoys.com"),
    ("Adventure Works", "adventure-works.com"),
)
TITLES: Final = ("Office Manager", "Head of People", "Operations Lead", "Founder", "Team Lead")
FREE_MAIL: Final = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")
# 555-0100 to 555-0199 are reserved for fiction in the North American plan (and still valid).
PHONES: Final = ("+1 415 555 0132", "+1 206 555 0147")
WORK_EMAILS: Final = 8


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    last_name: str
    email: str
    company: str | None = None
    title: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def traits(self) -> dict[str, Any]:
        traits: dict[str, Any] = {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "name": self.name,
        }
        for key, value in (("company", self.company), ("title", self.title), ("phone", self.phone)):
            if value is not None:
                traits[key] = value
        return traits
