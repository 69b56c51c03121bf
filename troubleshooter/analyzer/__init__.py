"""The manifest analyzer: pure Python, no Django. See `analyze_manifest`."""

from .analyze import analyze_manifest
from .results import Finding, Limits, ManifestRejected, ObjectRef, ParseError, Report

__all__ = [
    "Finding",
    "Limits",
    "ManifestRejected",
    "ObjectRef",
    "ParseError",
    "Report",
    "analyze_manifest",
]
