from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "kesu.portal"
    label = "portal"
    verbose_name = "住户端"
