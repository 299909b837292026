"""The localized words of a notice mail that depend on the notice (its type, severity, what the
event announces, its times); the fixed sentences are in templates/notice.json."""
from __future__ import annotations

from chalicelib.domain.notices import parse

TYPES = {
    "de": {"outage": "Störung", "maintenance": "Wartung", "security": "Sicherheitshinweis", "general": "Information"},
    "fr": {"outage": "Panne", "maintenance": "Maintenance", "security": "Avis de sécurité", "general": "Information"},
    "it": {"outage": "Guasto", "maintenance": "Manutenzione", "security": "Avviso di sicurezza",
           "general": "Informazione"},
    "en": {"outage": "Outage", "maintenance": "Maintenance", "security": "Security notice", "general": "Information"},
}

SEVERITIES = {
    "de": {"info": "Info", "minor": "Gering", "major": "Erheblich", "critical": "Kritisch"},
    "fr": {"info": "Info", "minor": "Mineure", "major": "Majeure", "critical": "Critique"},
    "it": {"info": "Info", "minor": "Lieve", "major": "Grave", "critical": "Critica"},
    "en": {"info": "Info", "minor": "Minor", "major": "Major", "critical": "Critical"},
}

# What the event announces, after the type: "Wartung: abgeschlossen", "Outage: resolved".
KINDS = {
    "de": {"published": "neu", "update": "Update", "reminder": "Erinnerung", "started": "begonnen",
           "completed": "abgeschlossen", "resolved": "behoben", "cancelled": "abgesagt", "rescheduled": "verschoben"},
    "fr": {"published": "nouveau", "update": "mise à jour", "reminder": "rappel", "started": "commencée",
           "completed": "terminée", "resolved": "résolue", "cancelled": "annulée", "rescheduled": "reportée"},
    "it": {"published": "nuovo", "update": "aggiornamento", "reminder": "promemoria", "started": "iniziata",
           "completed": "completata", "resolved": "risolto", "cancelled": "annullata", "rescheduled": "rinviata"},
    "en": {"published": "new", "update": "update", "reminder": "reminder", "started": "started",
           "completed": "completed", "resolved": "resolved", "cancelled": "cancelled", "rescheduled": "rescheduled"},
}

# Where a whole phrase reads better than "<type>: <kind>".
HEADLINES = {
    "de": {("published", "outage"): "Störung gemeldet", ("published", "maintenance"): "Wartung geplant",
           ("reminder", "maintenance"): "Erinnerung: Wartung steht bevor"},
    "fr": {("published", "outage"): "Panne signalée", ("published", "maintenance"): "Maintenance planifiée",
           ("reminder", "maintenance"): "Rappel : maintenance à venir"},
    "it": {("published", "outage"): "Guasto segnalato", ("published", "maintenance"): "Manutenzione pianificata",
           ("reminder", "maintenance"): "Promemoria: manutenzione in arrivo"},
    "en": {("published", "outage"): "Outage reported", ("published", "maintenance"): "Maintenance scheduled",
           ("reminder", "maintenance"): "Reminder: maintenance ahead"},
}

PERIOD = {
    "de": ("Von {start} bis {end}", "Beginn: {start}"),
    "fr": ("Du {start} au {end}", "Début : {start}"),
    "it": ("Dal {start} al {end}", "Inizio: {start}"),
    "en": ("From {start} to {end}", "Start: {start}"),
}

STARTS_IN = {"de": "Beginn in {d}", "fr": "Début dans {d}", "it": "Inizio tra {d}", "en": "Starts in {d}"}
PREVIOUSLY = {"de": "Bisher: {p}", "fr": "Auparavant : {p}", "it": "In precedenza: {p}", "en": "Previously: {p}"}
HOURS = {"de": "{n} Std.", "fr": "{n} h", "it": "{n} ore", "en": "{n} h"}
MINUTES = {"de": "{n} Min.", "fr": "{n} min", "it": "{n} min", "en": "{n} min"}


def headline(language: str, kind: str, notice_type: str) -> str:
    special = HEADLINES[language].get((kind, notice_type))
    if special:
        return special
    return f"{TYPES[language][notice_type]}: {KINDS[language].get(kind, kind)}"


def moment(value: str | None) -> str:
    """An ISO moment as mails show it: `2026-12-02 22:00 UTC`."""
    if not value:
        return ""
    return parse(value).strftime("%Y-%m-%d %H:%M UTC")


def period(language: str, starts_at: str | None, ends_at: str | None) -> str:
    both, start_only = PERIOD[language]
    if starts_at and ends_at:
        return both.format(start=moment(starts_at), end=moment(ends_at))
    return start_only.format(start=moment(starts_at)) if starts_at else ""


def note(language: str, kind: str, detail: dict) -> str:
    """A line on what changed: a reminder's lead time, a reschedule's previous times."""
    if kind == "reminder" and detail.get("minutes"):
        minutes = int(detail["minutes"])
        amount = (HOURS if minutes % 60 == 0 else MINUTES)[language].format(
            n=minutes // 60 if minutes % 60 == 0 else minutes)
        return STARTS_IN[language].format(d=amount)
    previous = detail.get("previous") or {}
    if kind == "rescheduled" and previous.get("starts_at"):
        return PREVIOUSLY[language].format(p=period(language, previous.get("starts_at"), previous.get("ends_at")))
    return ""


def labels(language: str, kind: str, notice_type: str, severity: str, starts_at: str | None, ends_at: str | None,
           detail: dict) -> dict:
    """The template data of these words, in `language`."""
    return {"headline": headline(language, kind, notice_type), "type_label": TYPES[language][notice_type],
            "severity_label": SEVERITIES[language].get(severity, severity), "period": period(language, starts_at, ends_at),
            "note": note(language, kind, detail)}
