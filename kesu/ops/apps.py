from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kesu.ops"
    label = "ops"
    verbose_name = "运维"
