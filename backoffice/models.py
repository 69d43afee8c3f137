"""The back office's own per-staff settings (its schema, never the gateway's)."""

from __future__ import annotations

from django.db import models


class StaffPreference(models.Model):
    """What one staff member chose once and keeps: the time zone times are shown and typed in."""

    django_user = models.OneToOneField(
        "auth.User", on_delete=models.CASCADE, primary_key=True, related_name="staff_preference"
    )
    time_zone = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "staff_preferences"

    def __str__(self) -> str:
        return f"{self.django_user_id}: {self.time_zone}"
