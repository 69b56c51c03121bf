"""Placeholder until the analyzer views land (owned by the analyzer faces work)."""

from django.http import Http404


def analyze(request):
    raise Http404


def check_list(request):
    raise Http404


def check_detail(request, check_id):
    raise Http404


def api_analyze(request):
    raise Http404
