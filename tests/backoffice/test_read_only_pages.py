"""Pages that only read (explorers, exports, analytics, monitoring, the dashboard) refuse a POST.

They used to answer a posted form with the page and a 200, as if something had been done.
Now: 405, in the back office's look, with ``Allow`` naming what the page takes.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.pages import assert_page_says

pytestmark = pytest.mark.django_db

READ_ONLY = [
    ("monitoring:home", {}),
    ("audit:audit_log_list", {}),
    ("audit:request_log_list", {}),
    ("audit:audit_log_detail", {"pk": 1}),
    ("audit:request_log_detail", {"pk": 1}),
    ("audit:audit_log_csv", {}),
    ("audit:audit_log_jsonl", {}),
    ("audit:request_log_csv", {}),
    ("audit:request_log_jsonl", {}),
    ("monitoring:server_health", {}),
    ("monitoring:server_health_csv", {}),
    ("monitoring:request_performance", {}),
    ("monitoring:request_performance_csv", {}),
    ("monitoring:tenant_usage_index", {}),
    ("monitoring:tenant_usage", {"tenant_id": uuid.UUID(int=1)}),
    ("monitoring:tenant_usage_csv", {"tenant_id": uuid.UUID(int=1)}),
    ("monitoring:trends", {}),
    ("monitoring:trends_csv", {}),
    ("monitoring:database_size", {}),
    ("monitoring:index_usage", {}),
    ("monitoring:performance_metrics", {}),
    ("monitoring:contract", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), READ_ONLY, ids=[name for name, _ in READ_ONLY])
def test_a_post_to_a_read_only_page_is_405_in_the_back_offices_look(admin, name, kwargs):
    response = admin.client().post(reverse(name, kwargs=kwargs), {"anything": "x"})
    assert_page_says(response, 405, "<h1>This page cannot do that</h1>")
    assert response["Allow"] == "GET, HEAD"
    assert 'href="/"' in response.content.decode(), "a way home"


def test_the_same_page_still_reads(admin):
    response = admin.client().get(reverse("audit:audit_log_list"))
    assert response.status_code == 200
