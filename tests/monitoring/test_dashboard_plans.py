"""The dashboard's recent denied actions read about a day of rows, even on a day with none.

The list walks ``audit_logs`` newest first by id for 10 denied rows of the last 24 hours; with
fewer than 10 such rows an unbounded walk would read the whole table. The day's id blocks
(``audit.time_blocks``) bound it. Measured deterministically as the explorers' plan tests are
(tests/audit/test_query_plans.py): statistics from every row, heap rows counted.
"""

from __future__ import annotations

import pytest

from tests.audit.test_query_plans import all_nodes, big_logs, page_plans, rows_read  # noqa: F401

# 60,000 rows over 30 days (one every 43 s: 2,010 a day), none denied. The walk reads the day's
# rows, the rest of the id block the day starts in (up to 999) and the few the test writes; an
# unbounded walk would read all 60,000.
ROW_BUDGET = 3_100


@pytest.mark.usefixtures("big_logs")
def test_a_day_without_denials_reads_only_the_days_rows(auditor):
    (plan,) = page_plans(auditor.client(), "/", {}, "audit_logs")
    assert not [n for n in all_nodes(plan) if n["Node Type"] == "Seq Scan"]
    read = rows_read(plan)
    assert 2_000 <= read <= ROW_BUDGET, read  # the day's rows were read, and no more
