from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """The MCP server registry: servers, their health checks, tools and resources."""

    name = "registry"
