import pytest

from tenants.models import Tenant


@pytest.mark.django_db
def test_contract_tables_exist_in_test_database():
    assert Tenant.unscoped.count() == 0
