"""Placeholder until the troubleshooter views land (owned by the troubleshooter work)."""

from django.http import Http404


def troubleshoot(request):
    raise Http404


def node(request, node):
    raise Http404


def api_diagnose(request):
    raise Http404
