import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_pages_render(support, member, member_sessions, impersonation):
    client = support.client()
    for url in [
        reverse("admin:security_gatewayuser_changelist"),
        reverse("admin:security_gatewayuser_change", args=[member.pk]),
        reverse("security:user_ban", args=[member.pk]),
        reverse("security:user_unban", args=[member.pk]),
        reverse("security:user_roles", args=[member.pk]),
        reverse("security:user_revoke_sessions", args=[member.pk]),
        reverse("security:session_revoke", args=[member.pk, member_sessions[0].pk]),
        reverse("admin:security_impersonationrecord_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
