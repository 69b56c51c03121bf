"""The knowledge-base app: articles, importer, search."""

from django.apps import AppConfig
from django.core.signals import request_finished


class KbConfig(AppConfig):
    name = "kb"
    verbose_name = "Knowledge base"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kb import heap

        # Every few requests the process returns its heap's freed pages (kb/heap.py).
        request_finished.connect(heap.after_request, dispatch_uid="kb.heap.after_request")
