"""Shared test set-up: a real PostgreSQL test database with the Drizzle contract applied first.

pytest-django would create no tables for unmanaged models, so the test database is created
empty, the contract is applied with ``drizzle_migrate`` (as on a dev database), and only then do
Django's own migrations run, into the back office's schema.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker) -> Iterator[None]:
    connection = connections["default"]
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    test_name = creation._get_test_db_name()
    if test_name == old_name:
        raise RuntimeError("The test database name must differ from the real one.")
    with django_db_blocker.unblock():
        # Drops a leftover test database of the same name, never the real one.
        creation._create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        connection.close()
        settings.DATABASES["default"]["NAME"] = test_name
        connection.settings_dict["NAME"] = test_name
        call_command("drizzle_migrate", verbosity=0, stdout=_Null())
        call_command("migrate", verbosity=0, interactive=False)
    yield
    with django_db_blocker.unblock():
        creation.destroy_test_db(old_name, verbosity=0)


class _Null:
    def write(self, *args: object) -> None:
        pass

    def flush(self) -> None:
        pass
