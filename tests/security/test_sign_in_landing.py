"""After signing in, staff land on their role's page; an unsafe ?next= never leads off site."""

import pytest
from django.test import Client

from tests.conftest import PERSONA_PASSWORD, make_persona
from tests.security.second_factor.conftest import VERIFY_URL

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, email: str, url: str = "/admin/login/", **data: str):
    return client.post(url, {"username": email, "password": PERSONA_PASSWORD, **data})


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("admin", "/"),  # the dashboard
        ("support", "/admin/security/gatewayuser/"),  # users to moderate
        ("auditor", "/audit/logs/"),  # the audit log explorer
        ("tenant_admin", "/admin/security/apikey/"),  # their tenant's API keys
        ("auditor,tenant_admin", "/audit/logs/"),
    ],
)
def test_without_next_staff_land_on_their_roles_page(tenant_a, role, landing):
    persona = make_persona(role, tenant_a if "tenant_admin" in role else None)
    client = Client()
    # The form as the sign-in page serves it, with no ?next= in the address.
    page = client.get("/admin/login/").content.decode()
    assert 'name="next" value=""' in page
    response = _sign_in(client, persona.gateway_user.email, next="")
    assert response.status_code == 302 and response["Location"] == landing
    # The second factor comes first, then the same landing.
    asked = client.get(landing)
    assert asked.status_code == 302 and asked["Location"].startswith(VERIFY_URL)
    verified = client.post(asked["Location"], {"code": persona.totp_code()})
    assert verified.status_code == 302 and verified["Location"] == landing
    assert client.get(landing).status_code == 200


def test_a_post_without_any_next_field_lands_on_the_role_page_not_a_404():
    persona = make_persona("auditor")
    client = Client()
    response = _sign_in(client, persona.gateway_user.email)
    assert response["Location"] == "/audit/logs/"
    assert "/accounts/profile/" not in response["Location"]


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "/\\evil.example/",
        "http://testserver.evil.example/admin/",
        "https:evil.example",
    ],
)
def test_an_unsafe_next_falls_back_to_the_role_page(unsafe):
    persona = make_persona("support")
    client = Client()
    response = _sign_in(client, persona.gateway_user.email, url=f"/admin/login/?next={unsafe}")
    assert response.status_code == 302
    assert response["Location"] == "/admin/security/gatewayuser/"
    # The same in the form's hidden field.
    other = Client()
    response = _sign_in(other, persona.gateway_user.email, next=unsafe)
    assert response["Location"] == "/admin/security/gatewayuser/"


def test_a_safe_next_is_followed():
    persona = make_persona("auditor")
    client = Client()
    response = _sign_in(client, persona.gateway_user.email, next="/analytics/trends/?period=7d")
    assert response.status_code == 302 and response["Location"] == "/analytics/trends/?period=7d"


def test_a_local_superuser_lands_on_the_dashboard(django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "break-glass-pw-1")
    client = Client()
    response = client.post("/admin/login/", {"username": "root", "password": "break-glass-pw-1"})
    assert response.status_code == 302 and response["Location"] == "/"
