"""What readers tell us: "Did this solve it?" per article and per troubleshooting step.

Only the vote, an optional short comment, the page and the interface language are stored: no
address, no cookie, no pasted log. Rate limiting keys on a hash of the address in the cache.
"""

from __future__ import annotations

from django.db import models


class Feedback(models.Model):
    """One answer to "Did this solve it?" on an article or a tree node."""

    ARTICLE = "article"
    NODE = "node"
    KINDS = [(ARTICLE, "Article"), (NODE, "Troubleshooting step")]

    kind = models.CharField(max_length=10, choices=KINDS)
    target = models.CharField(max_length=120, help_text="Article slug or tree node id.")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, max_length=1000)
    lang = models.CharField(max_length=10, blank=True, help_text="Interface language.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "target", "helpful"])]

    def __str__(self) -> str:
        vote = "helped" if self.helpful else "did not help"
        return f"{self.kind} {self.target}: {vote}"


class NotHelpful(Feedback):
    """The answers that say a page did not help: what editors should look at first."""

    class Meta:
        proxy = True
        verbose_name = "what does not help"
        verbose_name_plural = "what does not help"


class Shared(models.Model):
    """A result someone chose to share: stored only when they press Share, with secrets
    redacted, gone at `expires_at` or when deleted with the key shown to its creator (only its
    hash is kept). troubleshooter.share creates, loads and deletes them for every kind."""

    token = models.CharField(max_length=40, unique=True)
    delete_key_hash = models.CharField(max_length=64)
    redacted_values = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.token[:8]}… until {self.expires_at:%Y-%m-%d}"


class SharedReport(Shared):
    """An analyzer result someone chose to share: the manifest with Secret values redacted."""

    manifest = models.TextField(help_text="The manifest with Secret values redacted.")
    filename = models.CharField(max_length=200, blank=True)


class SharedDiagnosis(Shared):
    """A troubleshooter result someone chose to share: the paste with secrets redacted, and the
    option they chose if the troubleshooter asked a question. The page diagnoses the text
    again, so the answer follows the articles as they are updated."""

    text = models.TextField(help_text="The pasted text with passwords, tokens and keys redacted.")
    answer = models.CharField(
        max_length=80, blank=True, help_text="The tree node the user chose, if asked."
    )

    class Meta:
        verbose_name_plural = "shared diagnoses"
