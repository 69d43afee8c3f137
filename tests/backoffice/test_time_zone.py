"""One time policy: each staff member's zone, chosen once and remembered; every time shown says
its zone; every time typed is read in the zone its label names; commands read naive times as UTC.

The server runs in America/New_York here and the staff member chose Asia/Tokyo, so a time read
in the wrong one of the three zones is 5, 9 or 14 hours off.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditLog
from backoffice.models import StaffPreference
from security.factories import GatewayUserFactory
from security.models import ApiKey, GatewayUser
from security.second_factor.devices import enrol_without_code, verified_session_data
from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def _server_in_new_york(settings):
    settings.TIME_ZONE = "America/New_York"


def choose(persona, zone: str, client=None):
    client = client or persona.client()
    response = client.post("/preferences/time-zone/", {"time_zone": zone, "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    return client


def future(days: int = 20) -> dt.datetime:
    return (dt.datetime.now(TOKYO) + dt.timedelta(days=days)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )


def test_the_choice_is_kept_audited_and_used_by_a_new_sign_in(support):
    choose(support, "Asia/Tokyo")
    assert StaffPreference.objects.get(django_user=support.django_user).time_zone == "Asia/Tokyo"
    assert AuditLog.unscoped.get(action="staff.time_zone").details["time_zone"] == "Asia/Tokyo"
    # Another browser (a new session) shows times in the zone chosen once.
    html = assert_page_says(support.client().get("/"), 200, "Times: Asia/Tokyo")
    assert "America/New_York" not in html


def test_an_unknown_zone_is_refused_with_a_message(support):
    response = support.client().post("/preferences/time-zone/", {"time_zone": "Mars/Olympus"})
    assert_page_says(response, 400, "Select a valid choice")
    assert not StaffPreference.objects.exists()


def test_a_next_address_off_the_site_is_not_followed(support):
    response = support.client().post(
        "/preferences/time-zone/", {"time_zone": "UTC", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_without_a_choice_pages_use_the_servers_zone(support):
    assert_page_says(support.client().get("/"), 200, "Times: America/New_York")


def test_the_ban_form_is_labelled_with_the_zone_it_is_read_in(support):
    member = GatewayUserFactory.create(tenant=None, email="tz-member@example.com")
    client = choose(support, "Asia/Tokyo")
    url = f"/security/users/{member.pk}/ban/"
    assert_page_says(client.get(url), 200, "Banned until (Asia/Tokyo)")
    until = future()
    response = client.post(
        url,
        {"reason": "Spam", "length": "until", "until": until.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = GatewayUser.unscoped.get(pk=member.pk).ban_expires
    assert stored == until.astimezone(dt.UTC)


def test_the_ban_form_without_a_choice_is_read_in_the_zone_its_label_names(support):
    member = GatewayUserFactory.create(tenant=None, email="tz-member2@example.com")
    client = support.client()
    url = f"/security/users/{member.pk}/ban/"
    assert_page_says(client.get(url), 200, "Banned until (America/New_York)")
    until = future().replace(tzinfo=None)
    client.post(url, {"reason": "Spam", "length": "until", "until": until.isoformat()})
    stored = GatewayUser.unscoped.get(pk=member.pk).ban_expires
    assert stored == until.replace(tzinfo=ZoneInfo("America/New_York")).astimezone(dt.UTC)


def test_a_key_expiry_date_ends_at_midnight_in_the_labelled_zone(tenant_admin_a):
    client = choose(tenant_admin_a, "Asia/Tokyo")
    assert_page_says(client.get("/security/api-keys/new/"), 200, "Expiry date (Asia/Tokyo)")
    day = (dt.datetime.now(TOKYO) + dt.timedelta(days=10)).date()
    client.post(
        "/security/api-keys/new/",
        {
            "form_token": "tz-token",
            "name": "Tokyo key",
            "scopes": ["tools:call"],
            "expiry": "date",
            "expires_on": day.isoformat(),
            "rate_limit_per_minute": "60",
        },
    )
    key = ApiKey.unscoped.get(name="Tokyo key")
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=TOKYO) + dt.timedelta(days=1)
    assert key.expires_at == midnight.astimezone(dt.UTC)


def test_commands_read_a_time_without_offset_as_utc(support, tenant_admin_a):
    member = GatewayUserFactory.create(tenant=None, email="tz-cli@example.com")
    until = future().replace(tzinfo=None)
    call_command(
        "ban_user",
        member.email,
        "--reason",
        "Spam",
        "--until",
        until.isoformat(),
        "--as",
        support.gateway_user.email,
        stdout=io.StringIO(),
    )
    stored = GatewayUser.unscoped.get(pk=member.pk).ban_expires
    assert stored == until.replace(tzinfo=dt.UTC)
    call_command(
        "create_api_key",
        "--as",
        tenant_admin_a.gateway_user.email,
        "--name",
        "cli-tz",
        "--scope",
        "tools:call",
        "--until",
        until.isoformat(),
        stdout=io.StringIO(),
    )
    assert ApiKey.unscoped.get(name="cli-tz").expires_at == until.replace(tzinfo=dt.UTC)


def test_an_offset_is_honoured_by_the_commands(support):
    member = GatewayUserFactory.create(tenant=None, email="tz-cli2@example.com")
    until = future()
    call_command(
        "ban_user",
        member.email,
        "--reason",
        "Spam",
        "--until",
        until.isoformat(),
        "--as",
        support.gateway_user.email,
        stdout=io.StringIO(),
    )
    assert GatewayUser.unscoped.get(pk=member.pk).ban_expires == until.astimezone(dt.UTC)


@pytest.mark.parametrize("command", ["ban_user", "create_api_key"])
def test_the_help_says_naive_means_utc(command, capsys):
    with pytest.raises(SystemExit):
        call_command(command, "--help")
    assert "without an offset is read as UTC" in " ".join(capsys.readouterr().out.split())


def test_the_dashboard_shows_times_in_the_chosen_zone_with_its_abbreviation(support):
    GatewayUserFactory.create(
        tenant=None,
        banned=True,
        ban_reason="x",
        ban_expires=dt.datetime(2031, 1, 1, 3, 0, tzinfo=dt.UTC),
    )
    client = choose(support, "Asia/Tokyo")
    assert_page_says(client.get("/"), 200, "2031-01-01 12:00 JST")


def test_a_break_glass_superuser_keeps_a_zone_too(django_user_model):
    superuser = django_user_model.objects.create_superuser("breakglass", password="x-long-pass")
    client = Client()
    client.force_login(superuser)
    # Break-glass or not, a second factor first (security/second_factor).
    session = client.session
    session.update(verified_session_data(enrol_without_code(superuser)))
    session.save()
    response = client.post("/preferences/time-zone/", {"time_zone": "Asia/Tokyo", "next": "/"})
    assert response.status_code == 302
    assert_page_says(client.get("/"), 200, "Times: Asia/Tokyo")
    assert AuditLog.unscoped.get(action="staff.time_zone").actor_id == "local:breakglass"


def test_the_zone_costs_no_query(support):
    """Chosen or not, the zone comes with the staff account's own query."""
    client = support.client()
    client.get("/preferences/time-zone/")
    with CaptureQueriesContext(connection) as before:
        client.get("/preferences/time-zone/")
    choose(support, "Asia/Tokyo", client)
    with CaptureQueriesContext(connection) as after:
        client.get("/preferences/time-zone/")
    assert len(after) == len(before)
