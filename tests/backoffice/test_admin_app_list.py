"""The admin's app list is built only by a page that draws it.

``AdminSite.each_context`` puts ``available_apps`` in every admin page's context; building it
checks a permission and reverses URLs for every registered model. The explorers hide the
sidebar, so ``BackofficeAdminSite.get_app_list`` returns it unbuilt and the index builds it when
it draws it (issue #11: cost taken off the busiest pages).
"""

from __future__ import annotations

import pytest
from django.contrib.admin import AdminSite


@pytest.fixture
def app_lists_built(monkeypatch) -> list[str]:
    built: list[str] = []
    original = AdminSite._build_app_dict

    def counting(self, request, label=None):
        built.append(request.path)
        return original(self, request, label)

    monkeypatch.setattr(AdminSite, "_build_app_dict", counting)
    return built


@pytest.mark.django_db
def test_an_explorer_page_never_builds_the_app_list(admin, app_lists_built):
    response = admin.client().get("/audit/logs/")
    assert response.status_code == 200
    assert "available_apps" in response.context  # still there for a template that wants it
    assert app_lists_built == []


@pytest.mark.django_db
def test_the_admin_index_and_an_app_page_still_draw_it(admin, app_lists_built):
    client = admin.client()
    index = client.get("/admin/")
    assert index.status_code == 200
    assert app_lists_built  # the index read it
    assert b'href="/admin/security/gatewayuser/"' in index.content
    app_page = client.get("/admin/security/")
    assert app_page.status_code == 200
    assert b'href="/admin/security/gatewayuser/"' in app_page.content
