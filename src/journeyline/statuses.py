"""The closed vocabularies of the stored status columns, one definition each: the domain that
decides a value, the store's column (`Mapped[OrderStatus]`, ...) and the routes that answer it
all name the same type, so a misspelt status is a type error, not a silent new value. A foundation
module (no imports of journeyline): the store sits below the domains that own the meanings.

Literals rather than StrEnums: the values are the wire's and the database's text as they are,
and a Literal is that text (decision 65)."""

from __future__ import annotations

from typing import Literal

# orders.status: orders/lifecycle.py decides it.
OrderStatus = Literal["incomplete", "completed", "cancelled", "refunded"]
# crm_deals.stage and .kind: crm/deals.py.
DealStage = Literal["open", "checkout", "won", "lost", "refunded"]
DealKind = Literal["order", "subscription"]
# crm_persons.lifecycle_stage: crm/persons.py.
LifecycleStage = Literal["lead", "opportunity", "customer", "churned"]
# profiles.status: identity/identity_map.py.
ProfileStatus = Literal["shadow", "anchor", "merged"]
# ingest_jobs.status: ingest/batches.py runs a job from queued to completed or failed.
JobStatus = Literal["queued", "processing", "completed", "failed"]
# A batch job's answer beside its status (API.md fixes `status`' words): whether every event
# was taken. ingest/batches.py job_outcome.
JobOutcome = Literal["pending", "succeeded", "completed_with_errors", "failed"]
# api_keys.kind and ingest_jobs.key_kind: tenancy/keys.py.
KeyKind = Literal["public", "secret"]
