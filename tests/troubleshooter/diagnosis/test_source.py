"""The causes are built from the imported rows: only rows that may name evidence are parsed."""

from __future__ import annotations

import logging

import pytest

from troubleshooter.diagnosis.source import current_knowledge

CAUSE = """\
title: Widgets freeze
slug: widget-freeze
lang: en
symptoms:
  - "the widget share froze after the gadget reboot"
"""


@pytest.mark.django_db
def test_only_rows_whose_front_matter_may_name_evidence_are_read(caplog):
    from kb.models import Article

    Article.objects.create(
        slug="widget-freeze", title="Widgets freeze", markdown="Body.", front_matter=CAUSE
    )
    # A plain document whose stored front matter would not even parse: never read, so never
    # reported (a knowledge base of thousands of such documents holds a few causes).
    Article.objects.create(
        slug="plain-doc", title="Plain", markdown="Text.", front_matter="title: [unclosed"
    )
    # One that names a diagnosis key but is broken: read, and reported with its slug.
    Article.objects.create(
        slug="broken-cause", title="Broken", markdown="Text.", front_matter="symptoms: [unclosed"
    )
    with caplog.at_level(logging.WARNING, logger="troubleshooter.diagnosis.source"):
        knowledge = current_knowledge()
    assert [c.slug for c in knowledge.causes] == ["widget-freeze"]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "broken-cause" in warned and "plain-doc" not in warned
