"""A failed statement's error shows its SQL, never its bound values (issue 15, row 10): those
are customers' emails, phones and payloads, and an error's text ends up in logged traces."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from journeyline.store.db import Database
from journeyline.store.models import Tenant

EMAIL = "pat.private@customer.example"


async def test_a_failed_statement_logs_no_bound_parameter(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    tenant_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with database.transaction() as session:
        session.add(Tenant(id=tenant_id, name="first", settings={}, created_at=now))
    with pytest.raises(IntegrityError) as failed:
        async with database.transaction() as session:
            session.add(Tenant(id=tenant_id, name=EMAIL, settings={}, created_at=now))
    logging.getLogger("journeyline.api").exception("unhandled error", exc_info=failed.value)
    assert "INSERT INTO tenants" in str(failed.value)
    assert EMAIL not in str(failed.value)
    assert "unhandled error" in caplog.text
    assert EMAIL not in caplog.text
