import pytest

from tenants.models import Tenant


@pytest.mark.django_db
def test_contract_tables_exist_in_test_database():
    assert Tenant.unscoped.count() == 0


@pytest.mark.django_db
def test_the_test_run_raises_the_runaway_query_guard_but_keeps_one():
    """15 s in production; the test run's guard is 300 s (tests/conftest.py), never none."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5min"
