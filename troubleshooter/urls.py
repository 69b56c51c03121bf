"""Troubleshooter URLs: tree nodes and manifest checks are permanent link targets."""

from django.urls import path

from troubleshooter.views import analyze, diagnose, feedback

app_name = "troubleshooter"

urlpatterns = [
    path("troubleshoot/", diagnose.troubleshoot, name="troubleshoot"),
    path("troubleshoot/<str:node>/", diagnose.node, name="node"),
    path("api/diagnose/", diagnose.api_diagnose, name="api_diagnose"),
    path("analyze/", analyze.analyze, name="analyze"),
    path("checks/", analyze.check_list, name="check_list"),
    path("checks/<str:check_id>/", analyze.check_detail, name="check_detail"),
    path("api/analyze/", analyze.api_analyze, name="api_analyze"),
    path("feedback/", feedback.feedback, name="feedback"),
]
