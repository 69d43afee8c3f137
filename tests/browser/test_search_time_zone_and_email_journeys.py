"""The header's search, the time zone picker and long emails, in Chromium: what staff see, and
what the database holds (the stored ban end, the remembered zone)."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from backoffice.models import StaffPreference
from security.api_key_secrets import generate_api_key
from security.factories import ApiKeyFactory, GatewayUserFactory
from security.models import GatewayUser
from tests.browser.conftest import sign_in
from tests.conftest import PERSONA_PASSWORD, make_persona


def search(page, text: str) -> None:
    page.fill("#header-search-q", text)
    page.press("#header-search-q", "Enter")
    page.wait_for_load_state()


def test_the_header_search_finds_a_user_by_email_and_a_key_by_prefix_never_showing_a_key(
    page, tenant_a
):
    make_persona("admin", email="root@example.com")
    GatewayUserFactory.create(tenant=tenant_a, email="zoe.finder@acme.example", name="Zoe")
    material = generate_api_key()
    ApiKeyFactory.create(tenant=tenant_a, name="Billing export", material=material)
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    sign_in(page, "root@example.com", PERSONA_PASSWORD)

    search(page, "Zoe.F")
    users = page.locator("#search-users")
    expect(users).to_contain_text("zoe.finder@acme.example")
    users.get_by_role("link", name="zoe.finder@acme.example").click()
    expect(page).to_have_url(re.compile(r"/admin/security/gatewayuser/[^/]+/change/"))
    expect(page.locator("#content")).to_contain_text("zoe.finder@acme.example")

    search(page, material.prefix)
    expect(page.locator("#search-api-keys")).to_contain_text(f"Billing export ({material.prefix})")

    # A whole key pasted: searched by its prefix, said so, and the key is nowhere.
    search(page, material.plaintext)
    expect(page.locator("#pasted-key-note")).to_be_visible()
    expect(page.locator("#search-api-keys")).to_contain_text("Billing export")
    assert page.url.endswith("/search/")
    assert material.plaintext not in page.content()
    assert page.input_value("#header-search-q") == ""
    assert urls and not [url for url in urls if material.plaintext in url]


def test_a_chosen_time_zone_is_remembered_shown_and_read_in_the_ban_form(page, tenant_a):
    make_persona("support", email="support@example.com")
    quinn = GatewayUserFactory.create(tenant=tenant_a, email="quinn@acme.example")
    sign_in(page, "support@example.com", PERSONA_PASSWORD)

    page.goto("/admin/security/gatewayuser/")
    page.click("#header-time-zone")
    page.select_option("select[name=time_zone]", "Asia/Tokyo")
    page.get_by_role("button", name="Use this time zone").click()
    expect(page).to_have_url("/admin/security/gatewayuser/")  # back where they were
    expect(page.locator("#header-time-zone")).to_have_text("Times: Asia/Tokyo")
    assert StaffPreference.objects.get().time_zone == "Asia/Tokyo"

    # A time typed into the ban form is read in the zone its label names.
    page.goto(f"/security/users/{quinn.pk}/ban/")
    expect(page.get_by_text("Banned until (Asia/Tokyo)")).to_be_visible()
    page.fill("textarea[name=reason]", "Cooling off")
    page.get_by_label("Until the time below").check()
    page.fill("input[name=until]", "2030-01-31T18:00")
    page.get_by_role("button", name="Ban").click()
    expect(page.locator(".messagelist")).to_contain_text("quinn@acme.example")
    stored = GatewayUser.unscoped.get(pk=quinn.pk).ban_expires
    # Better-Auth's timestamp without time zone, holding UTC: 18:00 in Tokyo is 09:00 UTC.
    assert stored is not None and stored.replace(tzinfo=None) == dt.datetime(2030, 1, 31, 9, 0)

    # Remembered: a new browser session shows the list's times in Tokyo's abbreviation.
    page.context.clear_cookies()
    sign_in(page, "support@example.com", PERSONA_PASSWORD)
    page.goto("/admin/security/gatewayuser/")
    expect(page.locator("#header-time-zone")).to_have_text("Times: Asia/Tokyo")
    row = page.locator("#result_list tr", has_text="quinn@acme.example")
    expect(row).to_contain_text("Banned until 2030-01-31 18:00 JST")


# Each piece's line boxes, and the distinct lines the address occupies.
EMAIL_LINES_JS = """
(element) => {
  const parts = [...element.querySelectorAll('.email-part')];
  return {
    pieces: parts.map((part) => [part.textContent, part.getClientRects().length]),
    lines: new Set(parts.map((part) => Math.round(part.getBoundingClientRect().top))).size,
  };
}
"""


def test_a_long_email_in_a_narrow_list_breaks_only_before_its_at_and_dots(page, tenant_a):
    make_persona("support", email="support@example.com")
    email = "maximilian-alexander.longname@engineering-department.acme-holdings.example"
    GatewayUserFactory.create(tenant=tenant_a, email=email)
    page.set_viewport_size({"width": 900, "height": 900})
    sign_in(page, "support@example.com", PERSONA_PASSWORD)
    page.goto("/admin/security/gatewayuser/")

    shown = page.locator("#result_list .email", has_text="maximilian")
    expect(shown).to_have_attribute("title", email)
    layout = shown.evaluate(EMAIL_LINES_JS)
    assert "".join(text for text, _rects in layout["pieces"]) == email
    # Every piece ("maximilian-alexander", "@engineering-department", ".acme-holdings", ...)
    # on one line: no break inside a word nor after a hyphen; the address does wrap.
    assert all(rects == 1 for _text, rects in layout["pieces"]), layout
    assert layout["lines"] >= 2, layout
