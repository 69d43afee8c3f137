"""URLs of moderation."""

urlpatterns: list = []
