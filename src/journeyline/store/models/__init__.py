"""ORM models, one module per aggregate; importing this package registers them all on Base."""

from journeyline.store.models.crm import CrmCompany, CrmDeal, CrmPerson
from journeyline.store.models.erasures import ErasureKey, ErasureRecord, Tombstone
from journeyline.store.models.events import Event
from journeyline.store.models.graph import ProfileStage, SharedNode, TouchpointSync
from journeyline.store.models.jobs import IngestJob
from journeyline.store.models.orders import Order, Product
from journeyline.store.models.profiles import (
    AttributeChange,
    Identity,
    IdentityConflict,
    Profile,
    ProfileMerge,
)
from journeyline.store.models.sessions import DashboardSession
from journeyline.store.models.tenants import ApiKey, Tenant
from journeyline.store.models.webhooks import WebhookConnection, WebhookDelivery

__all__ = [
    "ApiKey",
    "AttributeChange",
    "CrmCompany",
    "CrmDeal",
    "CrmPerson",
    "DashboardSession",
    "ErasureKey",
    "ErasureRecord",
    "Event",
    "Identity",
    "IdentityConflict",
    "IngestJob",
    "Order",
    "Product",
    "Profile",
    "ProfileMerge",
    "ProfileStage",
    "SharedNode",
    "Tenant",
    "Tombstone",
    "TouchpointSync",
    "WebhookConnection",
    "WebhookDelivery",
]
