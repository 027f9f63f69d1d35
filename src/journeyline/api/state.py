"""What one process keeps for its lifetime: settings, the database, the group committer, the
key cache, the keys' budgets and usage, and the realtime hub."""

from __future__ import annotations

from dataclasses import dataclass

from journeyline.config import Settings
from journeyline.ingest.batches import JobQueue
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.realtime.hub import Hub
from journeyline.store.db import Database
from journeyline.tenancy.budgets import Budgets
from journeyline.tenancy.cache import KeyCache
from journeyline.tenancy.usage import KeyUsage


@dataclass
class AppState:
    settings: Settings
    database: Database
    committer: GroupCommitter
    queue: JobQueue
    keys: KeyCache
    hub: Hub
    budgets: Budgets
    usage: KeyUsage
    # Signs dashboard session cookies (tenancy/sessions.py).
    session_secret: bytes
