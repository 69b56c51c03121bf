"""Troubleshooter URLs: tree nodes and manifest checks are permanent link targets."""

from django.urls import path

from troubleshooter.views import analyze, diagnose, feedback, share

app_name = "troubleshooter"

urlpatterns = [
    path("troubleshoot/", diagnose.troubleshoot, name="troubleshoot"),
    # Before the tree nodes: "share" and "shared" are not node ids.
    path("troubleshoot/share/", share.diagnosis_share_create, name="diagnosis_share_create"),
    path(
        "troubleshoot/shared/<str:token>/",
        share.diagnosis_share_detail,
        name="diagnosis_share_detail",
    ),
    path(
        "troubleshoot/shared/<str:token>/delete/",
        share.share_delete,
        {"kind": "diagnosis"},
        name="diagnosis_share_delete",
    ),
    path("troubleshoot/<str:node>/", diagnose.node, name="node"),
    path("api/diagnose/", diagnose.api_diagnose, name="api_diagnose"),
    path("analyze/", analyze.analyze, name="analyze"),
    path("checks/", analyze.check_list, name="check_list"),
    path("checks/<str:check_id>/", analyze.check_detail, name="check_detail"),
    path("api/analyze/", analyze.api_analyze, name="api_analyze"),
    path("feedback/", feedback.feedback, name="feedback"),
    path("analyze/share/", share.share_create, name="share_create"),
    path("analyze/shared/<str:token>/", share.share_detail, name="share_detail"),
    path(
        "analyze/shared/<str:token>/delete/",
        share.share_delete,
        {"kind": "analysis"},
        name="share_delete",
    ),
]
