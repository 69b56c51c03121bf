"""Admin for articles: edit title and text, re-rendered on save; slugs are permanent."""

from __future__ import annotations

from pathlib import Path

from django.contrib import admin
from django.http import HttpRequest

from kb.models import Article, SlugHistory


def render_article(article: Article) -> None:
    """Re-render html and toc from the stored text, as the importer would."""
    # Imported here: the renderer brings Python-Markdown and Pygments (about 10 MB per
    # worker), which a worker serving only searches and the API never needs.
    from kb.importer import document_kind
    from kb.rendering import render_document

    suffix = Path(article.source_path).suffix if article.source_path else ".md"
    rendered = render_document(
        text=article.markdown, kind=document_kind(suffix=suffix, text=article.markdown)
    )
    article.html = rendered.html
    article.toc = rendered.toc


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "lang", "updated_at", "is_edited_locally")
    list_filter = ("lang",)
    search_fields = ("title", "slug", "summary", "markdown")
    ordering = ("title",)
    readonly_fields = (
        "source_path",
        "source_root",
        "content_hash",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": ("title", "slug", "lang", "summary", "markdown"),
                "description": (
                    "Saving re-renders the page. Every instance's search index catches up "
                    "on its own within KB_INDEX_CHECK_SECONDS; `manage.py rebuild_index` "
                    "updates this instance's at once. An article edited here is not "
                    "overwritten by the next import unless it is run with --force."
                ),
            },
        ),
        ("Search terms", {"fields": ("tags", "keywords", "symptoms")}),
        ("Origin", {"fields": ("sources", "published", *readonly_fields)}),
    )

    @admin.display(boolean=True, description="edited locally")
    def is_edited_locally(self, obj: Article) -> bool:
        return obj.edited_locally

    def get_readonly_fields(self, request: HttpRequest, obj: Article | None = None) -> tuple:
        # A slug is a permanent URL: set once when the article is created, never changed.
        if obj is not None:
            return ("slug", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Article, form: object, change: bool) -> None:
        render_article(obj)
        super().save_model(request, obj, form, change)


@admin.register(SlugHistory)
class SlugHistoryAdmin(admin.ModelAdmin):
    """Old slugs and the article each one redirects to."""

    list_display = ("old_slug", "article", "created_at")
    search_fields = ("old_slug", "article__slug")
    raw_id_fields = ("article",)
