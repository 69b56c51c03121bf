"""WSGI entry point: `gunicorn kb.wsgi` (and `runserver`, through WSGI_APPLICATION).

Heavy requests are served in child processes, a few at a time (kb/isolation.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")

from kb.isolation import IsolatingApplication  # noqa: E402 - needs the settings module set

application = IsolatingApplication(get_wsgi_application())
