"""The troubleshooter app: decision tree and manifest analyzer."""

from django.apps import AppConfig
from django.core import checks


class TroubleshooterConfig(AppConfig):
    name = "troubleshooter"
    verbose_name = "Troubleshooter"

    def ready(self) -> None:
        checks.register(check_troubleshooting_tree)


def check_troubleshooting_tree(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: the decision tree loads and validates (each problem names file and line)."""
    from troubleshooter.diagnosis import TreeError, get_tree

    try:
        get_tree()
    except TreeError as error:
        return [
            checks.Error(str(problem), id="troubleshooter.E001", obj="troubleshooter/data")
            for problem in error.problems
        ]
    return []
