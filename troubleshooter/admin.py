"""Admin: readers' feedback, with "what does not help" as its own list for editors."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from troubleshooter.models import Feedback, NotHelpful


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("target", "kind", "helpful", "comment", "lang", "created_at")
    list_filter = ("helpful", "kind", "lang")
    search_fields = ("target", "comment")
    readonly_fields = ("kind", "target", "helpful", "comment", "lang", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NotHelpful)
class NotHelpfulAdmin(admin.ModelAdmin):
    """One row per page that readers said did not help, most complaints first."""

    list_display = ("target", "kind", "not_helpful", "helpful_votes", "latest_comment")
    list_filter = ("kind",)
    search_fields = ("target", "comment")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        def votes(helpful: bool) -> Subquery:
            same_page = Feedback.objects.filter(
                kind=OuterRef("kind"), target=OuterRef("target"), helpful=helpful
            )
            return Subquery(
                same_page.values("target").annotate(n=Count("id")).values("n")[:1],
                output_field=IntegerField(),
            )

        # The latest "did not help" answer stands for its page, with the page's counts.
        latest = Feedback.objects.filter(
            kind=OuterRef("kind"), target=OuterRef("target"), helpful=False
        ).order_by("-id")
        return (
            NotHelpful.objects.filter(helpful=False, id=Subquery(latest.values("id")[:1]))
            .annotate(no_votes=Coalesce(votes(False), 0), yes_votes=Coalesce(votes(True), 0))
            .order_by("-no_votes", "target")
        )

    @admin.display(description="did not help", ordering="no_votes")
    def not_helpful(self, obj: NotHelpful) -> int:
        return obj.no_votes

    @admin.display(description="helped", ordering="yes_votes")
    def helpful_votes(self, obj: NotHelpful) -> int:
        return obj.yes_votes

    @admin.display(description="latest comment")
    def latest_comment(self, obj: NotHelpful) -> str:
        return obj.comment[:200]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False
