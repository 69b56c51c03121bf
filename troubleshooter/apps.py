"""The troubleshooter app: decision tree and manifest analyzer."""

from django.apps import AppConfig


class TroubleshooterConfig(AppConfig):
    name = "troubleshooter"
    verbose_name = "Troubleshooter"
