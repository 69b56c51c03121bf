"""The article: one imported document, its rendering and where it came from."""

from __future__ import annotations

import hashlib

from django.db import models
from django.urls import reverse


def body_fingerprint(*, title: str, markdown: str) -> str:
    """Hash of what an editor can change in the admin, to tell a local edit from an import."""
    return hashlib.sha256(f"{title}\x00{markdown}".encode()).hexdigest()


def body_hashes(body: str) -> set[str]:
    """sha256 digests a translator may have taken of an original's body ("the text after the
    closing ---"): with or without the newline that ends the front matter line."""
    variants = {body, "\n" + body, body.rstrip("\n") + "\n"}
    return {hashlib.sha256(v.encode("utf-8")).hexdigest() for v in variants}


class Article(models.Model):
    """A troubleshooting write-up, addressed forever by its slug."""

    LANGUAGES = [("en", "English"), ("ja", "Japanese"), ("zh", "Chinese")]

    # Not unique alone: a translation shares its original's slug (one URL, several languages).
    slug = models.SlugField(max_length=120, help_text="Permanent URL part.")
    title = models.CharField(max_length=300)
    lang = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    markdown = models.TextField(help_text="Source text as imported (Markdown or plain text).")
    html = models.TextField(editable=False, help_text="Sanitized HTML rendered from the source.")
    toc = models.JSONField(default=list, editable=False, help_text="Sections: id, title, level.")
    summary = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True, help_text="Extra search terms.")
    symptoms = models.JSONField(default=list, blank=True, help_text="Verbatim error messages.")
    sources = models.JSONField(default=list, blank=True, help_text="URLs of the originals.")
    published = models.DateField(null=True, blank=True)
    source_path = models.CharField(max_length=500, blank=True, help_text="File it came from.")
    source_root = models.CharField(
        max_length=500, blank=True, help_text="Folder given to the import; --prune works per root."
    )
    content_hash = models.CharField(
        max_length=64, blank=True, help_text="sha256 of the file bytes at the last import."
    )
    imported_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="Fingerprint of title and text at the last import."
    )
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="translations",
        help_text="The original this row translates; empty for originals.",
    )
    translated_from = models.CharField(
        max_length=64, blank=True, help_text="sha256 of the original's body it was translated from."
    )
    body_sha256 = models.CharField(
        max_length=64, blank=True, help_text="sha256 of the body (text after the front matter)."
    )
    original_reports = models.JSONField(
        default=list, blank=True, help_text="Source write-ups backing it: [{slug, lang}]."
    )
    front_matter = models.TextField(
        blank=True,
        editable=False,
        help_text="The front matter as imported: the troubleshooter reads a cause from it, so "
        "every instance sharing the database knows the same causes.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed: the articles' generation (count, newest change) is read on every search page
    # and every diagnosis; without an index SQLite reads each row up to this column, past the
    # large html and markdown columns (150 ms at 3 000 articles, 1 ms with the index).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "lang"], name="kb_article_slug_lang_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The article's permanent page; a translation's names its language explicitly."""
        url = reverse("kb:article_detail", args=[self.slug])
        return f"{url}?lang={self.lang}" if self.translation_of_id else url

    @property
    def is_translation(self) -> bool:
        """True for a translation of another article."""
        return self.translation_of_id is not None

    @property
    def stale(self) -> bool:
        """True when the original's body changed since this translation was made (or the
        translation does not say which body it was made from)."""
        original = self.translation_of
        if original is None:
            return False
        return self.translated_from not in body_hashes(original.markdown)

    @property
    def edited_locally(self) -> bool:
        """True when title or text were changed (in the admin) since the last import."""
        if not self.imported_fingerprint:
            return False
        return self.imported_fingerprint != body_fingerprint(
            title=self.title, markdown=self.markdown
        )


class SlugHistory(models.Model):
    """A slug an article had before: its old URL redirects (301) to the current one."""

    old_slug = models.SlugField(max_length=120, unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="old_slugs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "slug history"

    def __str__(self) -> str:
        return f"{self.old_slug} -> {self.article.slug}"
