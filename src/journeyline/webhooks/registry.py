"""The providers journeyline verifies and maps, by the name in their webhook URL."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from journeyline.webhooks.hotmart import HOTMART
from journeyline.webhooks.provider import Provider
from journeyline.webhooks.shopify import SHOPIFY
from journeyline.webhooks.stripe import STRIPE
from journeyline.webhooks.typeform import TYPEFORM

PROVIDERS: Mapping[str, Provider] = MappingProxyType(
    {provider.name: provider for provider in (STRIPE, SHOPIFY, TYPEFORM, HOTMART)}
)
# Providers whose connections may hold a second secret.
TWO_SECRETS = frozenset({"shopify"})
