"""URLs of api_keys."""

urlpatterns: list = []
