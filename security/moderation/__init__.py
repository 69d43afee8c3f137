"""User moderation and impersonation review (support staff)."""
