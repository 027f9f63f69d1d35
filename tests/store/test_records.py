"""The repositories write domain records by attribute (decision 65): a record's fields are its
table's columns, so a field added to one and not the other fails here, not by a column left
silently unwritten."""

from __future__ import annotations

from dataclasses import fields

from journeyline.crm.companies import Company
from journeyline.crm.deals import Deal
from journeyline.identity.identity_map import ProfileState
from journeyline.store.base import Base
from journeyline.store.models import CrmCompany, CrmDeal, Profile
from journeyline.store.repositories.crm import CompanyColumns, DealColumns
from journeyline.store.repositories.profiles import STATE_COLUMNS


def columns(model: type[Base]) -> set[str]:
    return {column.name for column in model.__table__.columns} - {"tenant_id"}


def test_a_deal_is_every_column_of_crm_deals() -> None:
    assert [f.name for f in fields(Deal)] == list(DealColumns._fields)
    assert set(DealColumns._fields) == columns(CrmDeal)


def test_a_company_is_every_column_of_crm_companies_but_its_update_time() -> None:
    assert [f.name for f in fields(Company)] == list(CompanyColumns._fields)
    assert set(CompanyColumns._fields) == columns(CrmCompany) - {"updated_at"}


def test_a_profile_state_writes_every_column_of_profiles_but_the_times_of_the_row() -> None:
    # `times` is written as attribute_times; created_at and updated_at are the write's.
    written = (set(STATE_COLUMNS) - {"attribute_times"}) | {"times"}
    assert written <= {f.name for f in fields(ProfileState)}
    assert set(STATE_COLUMNS) == columns(Profile) - {"created_at", "updated_at"}
