"""The mail templates: one SES template per kind of mail and language, built from the files in
templates/ (a kind's four languages in `<kind>.json`, the shared branded `layout.html`).

The CDK app and the local stack create the SES templates from `ses_templates()`, so the
templates in SES are always the ones in the repo. Files are read on first use only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chalicelib.domain.vocabulary import LANGUAGES

TEMPLATES = Path(__file__).resolve().parent / "templates"
BODY_SLOT = "%%BODY%%"
PLACEHOLDER = re.compile(r"\{\{\{?\s*([A-Za-z_][\w.]*)\s*\}?\}\}")
FALLBACK_LANGUAGE = "en"

# Branding (T5) every template may use; the worker fills them from the tenant's settings.
BRANDING_DEFAULTS = {
    "brand_name": "Roster",
    "brand_logo_url": "",
    "brand_color": "#1f4e79",
    "letterhead": "",
    "footer": "",
}


@dataclass(frozen=True)
class SesTemplate:
    name: str
    subject: str
    text: str
    html: str

    def as_ses(self) -> dict:
        return {"TemplateName": self.name, "SubjectPart": self.subject, "TextPart": self.text, "HtmlPart": self.html}


def template_name(kind: str, language: str) -> str:
    return f"roster-{kind.replace('_', '-')}-{language}"


def pick_language(*candidates: str | None) -> str:
    """The first supported language among person → account → tenant, else English (P6)."""
    return next((c for c in candidates if c in LANGUAGES), FALLBACK_LANGUAGE)


@lru_cache(maxsize=1)
def kinds() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in TEMPLATES.glob("*.json")))


@lru_cache(maxsize=1)
def ses_templates() -> tuple[SesTemplate, ...]:
    layout = (TEMPLATES / "layout.html").read_text(encoding="utf-8")
    built = []
    for kind in kinds():
        texts = json.loads((TEMPLATES / f"{kind}.json").read_text(encoding="utf-8"))
        missing = set(LANGUAGES) - set(texts)
        if missing:
            raise ValueError(f"template {kind} lacks languages {sorted(missing)}")
        for language in LANGUAGES:
            part = texts[language]
            built.append(SesTemplate(template_name(kind, language), part["subject"], part["text"],
                                     layout.replace(BODY_SLOT, part["html"])))
    return tuple(built)


@lru_cache(maxsize=1)
def subject_fields() -> frozenset[str]:
    """The template data some template puts into its Subject (`{{title}}`, `{{brand_name}}`, …):
    the mail sender makes these values one line, so no stored text can break the header."""
    return frozenset(name for template in ses_templates() for name in PLACEHOLDER.findall(template.subject))
