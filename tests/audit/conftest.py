"""Log rows for the explorer tests: a few through the factories, many through set-based SQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

# Many rows at once: one INSERT ... SELECT instead of one INSERT per row (factories).
BULK_AUDIT_LOGS_SQL = """
INSERT INTO audit_logs (tenant_id, actor_id, actor_type, action, resource_type, resource_id,
                        outcome, created_at)
SELECT %(tenant_id)s, %(actor_id)s, 'user', %(action)s, 'user', 'bulk-' || g, 'success',
       %(newest)s - make_interval(secs => g)
FROM generate_series(1, %(rows)s) AS g
"""


def bulk_audit_logs(
    rows: int,
    *,
    tenant_id: uuid.UUID | None = None,
    actor_id: str = "bulk-actor",
    action: str = "tool.call",
    newest: dt.datetime | None = None,
) -> None:
    """``rows`` audit rows, one second apart, the newest at ``newest`` (default: now)."""
    with connection.cursor() as cursor:
        cursor.execute(
            BULK_AUDIT_LOGS_SQL,
            {
                "tenant_id": tenant_id,
                "actor_id": actor_id,
                "action": action,
                "rows": rows,
                "newest": newest or dt.datetime.now(dt.UTC),
            },
        )


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
