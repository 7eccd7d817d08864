from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "kesu.api"
    label = "api"
    verbose_name = _("接口")

    def ready(self) -> None:
        # Webhooks hear every committed timeline event, in the transaction that wrote it.
        from kesu.complaints import events

        from . import schema  # noqa: F401  (registers the OpenAPI filter extension)
        from .webhooks import queue_webhooks

        events.subscribe(queue_webhooks)
