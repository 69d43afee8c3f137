"""Every page and admin action of the back office, for every role: the expected answer.

The cases are generated from the URL configuration and the admin registry, so a new page or
action cannot land without being covered: a URL with no declared capability (``@staff_view``,
``ScopedModelAdmin.capability``, ``@staff_action``) or no sample object fails here. Expected
answers come from ``backoffice.roles.GRANTS``, not from the pages themselves:

- anonymous, and a gateway user whose only role is ``user``: 302 to the sign-in page;
- a role whose grants include the page's capability: 200; otherwise 403;
- a tenant admin asking for another tenant's object: 404.

A status is not enough: a permitted page must render its heading (its title, or the export's
file), a refused one the refusal, a missing one the not-found page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from backoffice.roles import GRANTS, Capability, Role
from tests.conftest import Persona, make_persona
from tests.pages import NOT_FOUND, REFUSED, heading_of
from tests.permission_samples import SAMPLE_OBJECTS, SAMPLE_URL_KWARGS

if TYPE_CHECKING:
    from tests.pages import TestResponse

ROLES = ["anonymous", "user", "admin", "support", "tenant_admin", "auditor"]
# Pages open to anyone with a back-office role: the admin index, the dashboard, own sessions,
# the time zone picker and the search.
SITE_PAGES = {"admin:index", "monitoring:home", "security:own_sessions", "time_zone", "search"}
# URLs that need no capability: signing in and out, the home redirect.
PUBLIC_URL_NAMES = {
    "admin:login",
    "admin:logout",
    "admin:jsi18n",
    "admin:password_change",
    "admin:password_change_done",
    "admin:autocomplete",
    "admin:app_list",
    # Second-factor enrolment and verification: open to every signed-in person before the code.
    "security:second_factor_enrol",
    "security:second_factor_verify",
}


@dataclass(frozen=True)
class Page:
    url_name: str
    capability: Capability | None  # None: any back-office role
    kwargs_for: Callable[[dict[type, Any]], dict[str, Any]] | None = None
    model: type[models.Model] | None = None  # whose tenant decides a 404 for tenant admins


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        else:
            yield f"{prefix}{entry.name or ''}", entry


def _object_id_of(model: type[models.Model]) -> Callable[[dict[type, Any]], dict[str, Any]]:
    def kwargs(objects: dict[type, Any]) -> dict[str, Any]:
        return {"object_id": objects[model].pk}

    return kwargs


def _admin_pages() -> list[Page]:
    pages = []
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        capability = getattr(model_admin, "capability", None)
        pages.append(Page(f"{info}_changelist", capability))
        object_kwargs = _object_id_of(model)
        pages.append(Page(f"{info}_change", capability, object_kwargs, model))
        pages.append(Page(f"{info}_history", capability, object_kwargs, model))
    return pages


def _custom_pages() -> list[Page]:
    pages = []
    for name, pattern in _walk(get_resolver().url_patterns):
        if _unnamed(name) or name.startswith("admin:") or name in PUBLIC_URL_NAMES | SITE_PAGES:
            continue
        capability = getattr(pattern.callback, "capability", None)
        kwargs_for = SAMPLE_URL_KWARGS.get(name)
        needs_kwargs = bool(pattern.pattern.converters) or "<" in str(pattern.pattern)
        model = getattr(kwargs_for, "model", None)
        pages.append(Page(name, capability, kwargs_for if needs_kwargs else None, model))
    return pages


def _registered_admin_urls() -> set[str]:
    return {
        name
        for name, _ in _walk(get_resolver().url_patterns)
        if name.startswith("admin:") and not _unnamed(name)
        if name not in PUBLIC_URL_NAMES | SITE_PAGES
    }


def _unnamed(name: str) -> bool:
    return name == "" or name.endswith(":")


def test_every_page_outside_the_admin_has_a_name():
    # The matrix finds pages by name: an unnamed one would escape every check below. (The admin's
    # own unnamed patterns are redirects and its catch-all, behind the site's permission.)
    unnamed = [
        str(pattern.pattern)
        for name, pattern in _walk(get_resolver().url_patterns)
        if _unnamed(name) and not name.startswith("admin:")
    ]
    assert not unnamed, f"URL patterns without a name: {unnamed}"


def test_every_url_is_covered():
    covered = {p.url_name for p in _admin_pages()} | SITE_PAGES
    missing_admin = {
        name
        for name in _registered_admin_urls() - covered
        # add and delete pages are covered by test_no_adding_or_deleting_through_the_admin
        if not name.endswith(("_add", "_delete"))
    }
    assert not missing_admin, f"admin URLs not in the matrix: {sorted(missing_admin)}"
    uncovered = [p.url_name for p in _admin_pages() + _custom_pages() if p.capability is None]
    assert not uncovered, (
        f"pages without a declared capability: {uncovered} (use @staff_view or "
        "ScopedModelAdmin.capability)"
    )
    unsampled = [
        p.url_name
        for p in _custom_pages()
        if p.url_name not in SAMPLE_URL_KWARGS and _needs_kwargs(p.url_name)
    ]
    assert not unsampled, f"add sample kwargs to tests/permission_samples.py for {unsampled}"
    models_without_sample = [m._meta.label for m in admin.site._registry if m not in SAMPLE_OBJECTS]
    assert not models_without_sample, (
        f"add a sample object to tests/permission_samples.py for {models_without_sample}"
    )


def _needs_kwargs(url_name: str) -> bool:
    for name, pattern in _walk(get_resolver().url_patterns):
        if name == url_name:
            return bool(pattern.pattern.converters) or "<" in str(pattern.pattern)
    return False


def _expected(role: str, capability: Capability | None) -> int:
    if role in ("anonymous", "user"):
        return 302
    if capability is None:
        return 200
    return 200 if Role(role) in GRANTS[capability] else 403


def _what_is_wrong(response: TestResponse, status: int) -> str | None:
    """Why the page does not say what a page answering ``status`` should, or None."""
    if status == 403:
        return None if REFUSED in response.content.decode() else "no refusal on the page"
    if status == 404:
        return None if NOT_FOUND in response.content.decode() else "no not-found page"
    if status != 200:
        return None
    disposition = response.get("Content-Disposition", "")
    if disposition or getattr(response, "streaming", False):  # an export: a named, non-empty file
        # Read to the end: an export left half read holds its COPY open on the connection.
        body = b"".join(response) if response.streaming else response.content
        ok = disposition.startswith("attachment; filename=") and body.strip()
        return None if ok else f"an export without a file or content: {disposition!r}"
    title = str((response.context or {}).get("title") or "").strip()
    if not title:
        return "a page without a title"
    return None if heading_of(response) == title else f"heading {heading_of(response)!r}"


@pytest.fixture
def world(tenant_a, tenant_b) -> dict[str, Any]:
    personas: dict[str, Persona | None] = {
        "anonymous": None,
        "user": make_persona("user", tenant_a),
        "admin": make_persona("admin"),
        "support": make_persona("support"),
        "tenant_admin": make_persona("tenant_admin", tenant_a),
        "auditor": make_persona("auditor"),
    }
    objects = {model: make(tenant_a) for model, make in SAMPLE_OBJECTS.items()}
    return {
        "personas": personas,
        "objects": objects,
        "other_tenant_admin": make_persona("tenant_admin", tenant_b),
    }


def _client(persona: Persona | None) -> Client:
    return persona.client() if persona is not None else Client()


def _all_pages() -> list[Page]:
    return [Page(name, None) for name in sorted(SITE_PAGES)] + _admin_pages() + _custom_pages()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_as_the_role_allows(world, role):
    client = _client(world["personas"][role])
    failures = []
    for page in _all_pages():
        kwargs = page.kwargs_for(world["objects"]) if page.kwargs_for else {}
        url = reverse(page.url_name, kwargs=kwargs)
        response = client.get(url)
        expected = _expected(role, page.capability)
        if response.status_code != expected:
            failures.append(f"{page.url_name} {url}: {response.status_code}, expected {expected}")
        elif expected == 302 and "/admin/login/" not in response["Location"]:
            failures.append(f"{page.url_name}: redirected to {response['Location']}")
        elif wrong := _what_is_wrong(response, expected):
            failures.append(f"{page.url_name} {url}: {wrong}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_staff_without_a_second_factor_are_sent_to_enrolment_from_every_page(world):
    persona = make_persona("admin", enrolled=False)
    client = Client()
    client.force_login(persona.django_user, backend="security.authentication.BetterAuthBackend")
    failures = []
    for page in _all_pages():
        kwargs = page.kwargs_for(world["objects"]) if page.kwargs_for else {}
        url = reverse(page.url_name, kwargs=kwargs)
        response = client.get(url)
        location = response.get("Location", "")
        if response.status_code != 302 or not location.startswith(
            "/security/second-factor/enrol/?next="
        ):
            failures.append(f"{page.url_name} {url}: {response.status_code} {location}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_tenant_admin_gets_404_for_another_tenants_objects(world):
    client = world["other_tenant_admin"].client()
    failures = []
    for page in _all_pages():
        if page.model is None or page.kwargs_for is None or page.capability is None:
            continue
        if Role.TENANT_ADMIN not in GRANTS[page.capability]:
            continue
        url = reverse(page.url_name, kwargs=page.kwargs_for(world["objects"]))
        response = client.get(url)
        if response.status_code != 404:
            failures.append(f"{page.url_name} {url}: {response.status_code}, expected 404")
        elif wrong := _what_is_wrong(response, 404):
            failures.append(f"{page.url_name} {url}: {wrong}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "support", "tenant_admin", "auditor"])
def test_admin_actions_are_offered_exactly_to_the_roles_granted_them(world, rf, role):
    persona = world["personas"][role]
    failures = []
    for model, model_admin in admin.site._registry.items():
        request = rf.get("/")
        request.user = persona.django_user
        request.actor = persona.actor
        offered = set(model_admin.get_actions(request))
        for func, name, _desc in model_admin._get_base_actions():  # type: ignore[attr-defined]
            capability = getattr(func, "capability", None)
            if capability is None:
                if name in offered:
                    failures.append(f"{model._meta.label}.{name} has no capability")
                continue
            should = Role(role) in GRANTS[capability]
            if (name in offered) != should:
                failures.append(f"{model._meta.label}.{name}: offered={name in offered}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["support", "tenant_admin", "auditor"])
def test_posting_an_action_the_role_lacks_is_refused(world, role):
    client = world["personas"][role].client()
    failures = []
    for model, model_admin in admin.site._registry.items():
        for func, name, _desc in model_admin._get_base_actions():  # type: ignore[attr-defined]
            capability = getattr(func, "capability", None)
            if capability is None or Role(role) in GRANTS[capability]:
                continue
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            obj = world["objects"][model]
            response = client.post(url, {"action": name, "_selected_action": [obj.pk]})
            if response.status_code != 403:
                failures.append(f"{model._meta.label}.{name}: {response.status_code}")
            elif wrong := _what_is_wrong(response, 403):
                failures.append(f"{model._meta.label}.{name}: {wrong}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_posts_as_the_role_allows(world, role):
    """A form posted straight to a page (no GET first) meets the same rule as the page itself.

    The empty form changes nothing for a role that holds the capability (a form error); a role
    without it is refused before any form is read.
    """
    client = _client(world["personas"][role])
    client.handler.enforce_csrf_checks = False
    failures = []
    for page in _custom_pages():
        kwargs = page.kwargs_for(world["objects"]) if page.kwargs_for else {}
        url = reverse(page.url_name, kwargs=kwargs)
        response = client.post(url, {})
        status = response.status_code
        expected = _expected(role, page.capability)
        if expected == 200:
            if status == 403 or status >= 500:
                failures.append(f"{page.url_name} {url}: {status} for a role that may use it")
            elif status in (200, 400) and (wrong := _what_is_wrong(response, 200)):
                failures.append(f"{page.url_name} {url}: {status}, {wrong}")
        elif status != expected:
            failures.append(f"{page.url_name} {url}: {status}, expected {expected}")
        elif wrong := _what_is_wrong(response, expected):
            failures.append(f"{page.url_name} {url}: {wrong}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "support", "tenant_admin", "auditor"])
def test_no_adding_or_deleting_through_the_admin(world, role):
    client = world["personas"][role].client()
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        obj = world["objects"][model]
        delete = client.get(reverse(f"{info}_delete", args=[obj.pk]))
        assert delete.status_code == 403, (info, role, delete.status_code)
        assert _what_is_wrong(delete, 403) is None, (info, role)
        add_capability = getattr(model_admin, "add_capability", None)
        add = client.get(reverse(f"{info}_add"))
        allowed = add_capability is not None and Role(role) in GRANTS[add_capability]
        assert add.status_code == (200 if allowed else 403), (info, role, add.status_code)
        assert _what_is_wrong(add, add.status_code) is None, (info, role)
