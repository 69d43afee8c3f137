"""A user searched by the start of their email reads ranges of the email's unique index, never
the whole user table, and still finds an email stored with capitals (EXPLAIN ANALYZE).

Deterministic: the statistics are computed from every row (the sample exceeds the table), and
only heap rows are counted, as in ``tests/audit/test_query_plans.py``.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from security.factories import GatewayUserFactory
from security.moderation.selectors import (
    email_prefix_ranges,
    emails_in_code_point_order,
    users_by_email_prefix,
    users_visible_to,
)
from tests.audit.test_query_plans import all_nodes, rows_read
from tests.pages import assert_page_says

USERS_SQL = """
INSERT INTO "user" (id, name, email, created_at, updated_at)
SELECT 'bulk-' || g, 'Bulk ' || g, 'person' || g || '@bulk' || (g % 50) || '.example',
       now(), now()
FROM generate_series(1, 20000) AS g
"""
# 11 lower-cased matches of "person1234" and the two stored with capitals: a few pages' worth.
ROW_BUDGET = 100


@pytest.fixture
def many_users(db) -> None:
    GatewayUserFactory.create(email="Person12345@Mixed.example", name="Capital P")
    GatewayUserFactory.create(email="perSON12346@mixed.example", name="Capitals inside")
    with connection.cursor() as cursor:
        cursor.execute(USERS_SQL)
        cursor.execute("SET LOCAL default_statistics_target = 10000")
        cursor.execute('ANALYZE "user"')


def test_the_ranges_cover_every_case_of_the_prefix() -> None:
    # The lower-cased term, then where a capital may first differ from it ("1" has no case).
    assert set(email_prefix_ranges("Ab1")) == {
        ("ab1", "ab1\U0010ffff"),
        ("A", "A\U0010ffff"),
        ("aB", "aB\U0010ffff"),
    }


@pytest.mark.django_db
def test_this_database_sorts_emails_by_code_point() -> None:
    # The CI and embedded servers are initialised in C or C.UTF-8; were they not, the search
    # would read the table (correct, unindexed) and the plan test below would say so.
    assert emails_in_code_point_order()


def test_the_email_prefix_search_reads_ranges_of_the_email_index(support, many_users) -> None:
    term = "PERSON1234"
    with CaptureQueriesContext(connection) as captured:
        found = list(users_by_email_prefix(users_visible_to(support.actor), term).order_by("email"))
    assert [u.email for u in found][:2] == [
        "Person12345@Mixed.example",
        "perSON12346@mixed.example",
    ]
    assert len(found) == 13  # person1234 and person12340..9 @bulk, and the two with capitals
    (sql,) = [q["sql"] for q in captured if '"user"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    root = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    nodes = list(all_nodes(root))
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], json.dumps(root)[:3000]
    assert {n.get("Index Name") for n in nodes} >= {"user_email_unique"}, json.dumps(root)[:3000]
    assert rows_read(root) <= ROW_BUDGET, json.dumps(root)[:3000]


def test_the_header_search_finds_a_capitalised_email_by_its_lower_cased_start(support) -> None:
    GatewayUserFactory.create(email="Quentin.Mixed@Acme.example", name="Quentin")
    html = assert_page_says(
        support.client().post("/search/", {"q": "quentin.m"}), 200, "Quentin.Mixed@Acme.example"
    )
    assert 'id="search-users"' in html
