"""Notices (N1–N5): drafts, publishing with a coverage report, incident updates, resolve and
cancel, the maintenance lifecycle the schedule drives, and what a person sees.

Every mailed moment is an event item written in the same transaction as the notice's change
(outbox); after the commit its id goes to the fan-out queue, and the delivery sweep re-sends any
whose hand-off was lost. Nothing is mailed from a request.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.domain.entities import Page
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, Problem, RuleViolation, VersionConflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.notices import (
    CANCELLED, COMPLETED, DEFAULT_REMINDERS, DONE, DRAFT, IN_PROGRESS, LIVE, OPEN, PLANNED, PUBLISHED, REMINDER,
    RESCHEDULED, RESOLVED, SCHEDULED, SKIPPED, STARTED, UPDATE, UPDATE_MOVES, Coverage, Notice, NoticeEvent, figures,
    next_due, plan, published_status, tick,
)
from chalicelib.adapters.clock import iso
from chalicelib.domain.errors import retry_on_contention

ATTEMPTS = 5
MAX_UNREACHED_PAGE = 100
MAX_SCANNED_FOR_PERSON = 500  # notices looked at for one page of /me/notices that has found one
DEFAULT_SEVERITY = {"outage": "major", "security": "major", "maintenance": "info", "general": "info"}
EDITABLE_WHEN_LIVE = ("title", "body", "severity", "starts_at", "ends_at", "reminders")


@dataclass(frozen=True)
class NoticeView:
    notice: Notice
    events: list[NoticeEvent]

    @property
    def figures(self) -> dict:
        return figures(self.events)


@dataclass(frozen=True)
class CoverageReport:
    coverage: Coverage
    unreached: list[str]         # one page of the unreached accounts
    next_cursor: str | None


@dataclass(frozen=True)
class Publication:
    view: NoticeView
    report: CoverageReport | None  # None: published, the coverage pending (the fan-out counts it)
    dry_run: bool


class NoticeService:
    def __init__(self, database, clock, fanout_queue, audience, logger):
        self._db = database
        self._repo = database.notices
        self._deliveries = database.notice_delivery
        self._clock = clock
        self._fanout = fanout_queue
        self._audience = audience  # () -> Audience, built on first use
        self._log = logger

    # --- drafts ------------------------------------------------------------------------------
    def create(self, tenant_id: str, fields: dict, actor: str) -> Notice:
        """A draft: nothing is mailed until it is published."""
        if "reminders" in fields and fields["type"] != "maintenance":
            raise RuleViolation("Only a maintenance has reminders.", [Problem("reminders", "only for type maintenance")])
        now = self._clock.now_iso()
        notice = Notice(tenant_id=tenant_id, notice_id=new_id("notice"), type=fields["type"],
                        severity=fields.get("severity") or DEFAULT_SEVERITY[fields["type"]], status=DRAFT,
                        title=fields["title"], body=fields["body"], affected=fields["affected"],
                        starts_at=fields.get("starts_at"), ends_at=fields.get("ends_at"),
                        reminders=(list(fields.get("reminders", DEFAULT_REMINDERS))
                                   if fields["type"] == "maintenance" else []),
                        steps={}, created_at=now, updated_at=now, published_at=None, created_by=actor, version=1)
        notice = replace(notice, language=self._check(notice))  # the notice keeps its language
        self._repo.create(notice)
        return notice

    def update(self, tenant_id: str, notice_id: str, changes: dict, expected_version: int | None,
               actor: str) -> NoticeView:
        """Edits a draft freely. A published notice keeps its type and audience; moving a scheduled
        maintenance (starts_at, ends_at) re-plans its reminders and mails a `rescheduled` notice."""
        def attempt() -> NoticeView:
            before = self._current_view(tenant_id, notice_id, expected_version)
            notice = before.notice
            edited = replace(notice, **changes)
            if notice.status != DRAFT:
                self._check_live_edit(notice, changes)
            language = self._check(edited, changed=set(changes))
            moved = notice.status in (SCHEDULED, IN_PROGRESS) and (
                edited.starts_at != notice.starts_at or edited.ends_at != notice.ends_at
                or edited.reminders != notice.reminders)
            now = self._clock.now_iso()
            if moved and edited.ends_at <= now:
                raise RuleViolation("A maintenance cannot be moved into the past; cancel it instead.",
                                    [Problem("ends_at", "is in the past")])
            extra: dict = _keep_language(notice, language)
            event = None
            if moved:
                extra["steps"] = self._replan(notice, edited, now)
                event = self._event(edited, RESCHEDULED, f"rescheduled-{notice.event_count + 1:03d}", now, actor,
                                    detail={"previous": {"starts_at": notice.starts_at, "ends_at": notice.ends_at}})
            return self._write(before, {**changes, **extra}, event, due=next_due(extra["steps"]) if moved else False)

        return retry_on_contention(ATTEMPTS, attempt)

    def delete(self, tenant_id: str, notice_id: str, expected_version: int | None) -> None:
        """Only a draft can be deleted; a published notice is history (cancel or resolve it)."""
        notice = self._current(tenant_id, notice_id, expected_version)
        if notice.status != DRAFT:
            raise Conflict("Only a draft can be deleted; cancel or resolve a published notice.", "not_draft")
        if not self._repo.delete_at(notice):  # it changed between the read and the delete
            raise VersionConflict("Notice")

    # --- publishing --------------------------------------------------------------------------
    def publish(self, tenant_id: str, notice_id: str, dry_run: bool, expected_version: int | None,
                actor: str) -> Publication:
        """Outage, security, general → `open`, mailed now; maintenance → `scheduled`, announced now.
        `dry_run` answers the coverage (with the people) without writing anything; a publication
        answers it pending: the fan-out of the `published` event counts it and stores it on the
        notice (`coverage`)."""
        before = self._current_view(tenant_id, notice_id, expected_version)
        notice = before.notice
        if notice.status != DRAFT:
            raise Conflict(f"The notice is already {notice.status}.", "already_published")
        now = self._clock.now_iso()
        if notice.is_maintenance and notice.ends_at <= now:
            raise RuleViolation("A maintenance that has already ended cannot be announced.",
                                [Problem("ends_at", "is in the past")])
        if dry_run:
            _, coverage = self._audience().compute(tenant_id, notice.type, notice.affected)
            return Publication(before, _first_page(coverage), True)
        changes = {"status": published_status(notice.type), "published_at": now}
        if notice.starts_at is None:
            changes["starts_at"] = now
        due = False
        if notice.is_maintenance:
            changes["steps"] = plan(notice.starts_at, notice.ends_at, notice.reminders, now, iso)
            due = next_due(changes["steps"])
        event = self._event(replace(notice, **changes), PUBLISHED, PUBLISHED, now, actor)
        # The coverage is pending: the fan-out, which reads the audience anyway, counts it and
        # stores it on the notice, so a publication costs the same whatever its audience.
        return Publication(self._write(before, changes, event, due=due, expected_status=DRAFT, publishing=True),
                           None, False)

    def add_update(self, tenant_id: str, notice_id: str, body: dict, status: str | None, actor: str) -> NoticeView:
        """An incident update, mailed to the same audience; it may move the notice on (e.g. resolved)."""
        def attempt() -> NoticeView:
            before = self._current_view(tenant_id, notice_id, None)
            notice = before.notice
            if notice.status not in LIVE:
                raise Conflict(f"A {notice.status} notice takes no more updates.", "notice_closed")
            if status is not None and status not in UPDATE_MOVES[notice.status]:
                raise RuleViolation(f"A {notice.status} notice cannot become {status} by an update.",
                                    [Problem("status", "must be one of " + ", ".join(UPDATE_MOVES[notice.status]))])
            language = self._require_texts_and_accounts(notice, {"body": body}, [])
            return self._move(before, status, UPDATE, f"update-{notice.update_count + 1:03d}", body, actor,
                              extra=_keep_language(notice, language))

        return retry_on_contention(ATTEMPTS, attempt)

    def resolve(self, tenant_id: str, notice_id: str, body: dict | None, actor: str) -> NoticeView:
        def attempt() -> NoticeView:
            before = self._current_view(tenant_id, notice_id, None)
            notice = before.notice
            if notice.is_maintenance:
                raise Conflict("A maintenance is completed by its schedule or cancelled, not resolved.",
                               "not_resolvable")
            if notice.status != OPEN:
                raise Conflict(f"Only an open notice can be resolved; this one is {notice.status}.", "not_open")
            return self._move(before, RESOLVED, RESOLVED, RESOLVED, body, actor)

        return retry_on_contention(ATTEMPTS, attempt)

    def cancel(self, tenant_id: str, notice_id: str, body: dict | None, actor: str) -> NoticeView:
        def attempt() -> NoticeView:
            before = self._current_view(tenant_id, notice_id, None)
            notice = before.notice
            if not notice.is_maintenance:
                raise Conflict("Only a maintenance is cancelled; resolve other notices.", "not_cancellable")
            if notice.status not in (SCHEDULED, IN_PROGRESS):
                raise Conflict(f"Only a maintenance not yet completed can be cancelled; this one is {notice.status}.",
                               "not_cancellable")
            return self._move(before, CANCELLED, CANCELLED, CANCELLED, body, actor)

        return retry_on_contention(ATTEMPTS, attempt)

    def _move(self, before: NoticeView, status: str | None, kind: str, event_key: str, body: dict | None,
              actor: str, extra: dict | None = None) -> NoticeView:
        notice = before.notice
        now = self._clock.now_iso()
        changes: dict = dict(extra or {})
        due = False
        if status is not None:
            changes["status"] = status
            if notice.is_maintenance:
                changes["steps"] = _close_steps(notice.steps, status)
                due = next_due(changes["steps"])
            if status in (RESOLVED, COMPLETED, CANCELLED) and not notice.ends_at:
                changes["ends_at"] = now
        if kind == UPDATE:
            changes["update_count"] = notice.update_count + 1
        moved = replace(notice, **changes)
        event = self._event(moved, kind, event_key, now, actor, body=body)
        return self._write(before, changes, event, due=due, expected_status=notice.status)

    # --- the schedule ------------------------------------------------------------------------
    def run_schedule(self, limit: int = 100) -> dict:
        """Moves every maintenance with a step due: a reminder, the start, the end, each mailed.
        Found by a key condition on the due index, never by reading the whole table."""
        now = self._clock.now_iso()
        moved = {"notices": 0, "mailed": 0, "skipped": 0}
        for tenant_id, notice_id in self._repo.due(now, limit):
            sent, skipped = retry_on_contention(ATTEMPTS, lambda: self._advance(tenant_id, notice_id, now))
            moved["notices"] += 1
            moved["mailed"] += sent
            moved["skipped"] += skipped
        return moved

    def _advance(self, tenant_id: str, notice_id: str, now: str) -> tuple[int, int]:
        notice = self._repo.get(tenant_id, notice_id)
        if notice is None:
            return 0, 0
        if notice.status not in (SCHEDULED, IN_PROGRESS):
            self._write(NoticeView(notice, []), {}, None, due=None)
            return 0, 0
        step = tick(notice.status, notice.steps, now)
        steps = {key: dict(value) for key, value in notice.steps.items()}
        for key in step.skip:
            steps[key]["state"] = SKIPPED
        event = None
        changes = {"steps": steps}
        if step.send:
            steps[step.send]["state"] = DONE
            if step.status != notice.status:
                changes["status"] = step.status
                if step.status == COMPLETED:
                    steps = _close_steps(steps, COMPLETED)
                    changes["steps"] = steps
            kind = REMINDER if step.send.startswith(REMINDER) else step.send
            detail = {"minutes": steps[step.send]["minutes"]} if kind == REMINDER else None
            event = self._event(replace(notice, **changes), kind, step.send, now, "schedule", detail=detail)
        elif step.status != notice.status:
            changes["status"] = step.status
        self._write(NoticeView(notice, []), changes, event, due=next_due(steps), expected_status=notice.status)
        return (1 if event else 0), len(step.skip)

    # --- reading -----------------------------------------------------------------------------
    def view(self, tenant_id: str, notice_id: str) -> NoticeView:
        notice, events = self._repo.with_events(tenant_id, notice_id)
        if notice is None:
            raise NotFound("Notice")
        return NoticeView(notice, events)

    def list(self, tenant_id: str, notice_type: str | None, status: str | None, since: str | None,
             until: str | None, limit: int, cursor: str | None) -> Page[Notice]:
        return self._repo.page(tenant_id=tenant_id, notice_type=notice_type, status=status, since=since, until=until,
                               limit=limit, cursor=cursor)

    def coverage(self, tenant_id: str, notice_id: str, limit: int, cursor: str | None) -> CoverageReport:
        """Who the notice reaches now and, paginated, the affected accounts it would reach nobody in."""
        notice = self._current(tenant_id, notice_id, None)
        _, coverage = self._audience().compute(tenant_id, notice.type, notice.affected)
        start = _offset(cursor)
        unreached = list(coverage.unreached_account_ids)
        return CoverageReport(coverage, unreached[start:start + limit],
                              _offset_cursor(len(unreached), start + limit))

    def deliveries(self, tenant_id: str, notice_id: str, event_key: str | None, status: str | None, limit: int,
                   cursor: str | None) -> tuple[list[dict], str | None]:
        """Per recipient and event, batch by batch (each recipient's outcome is on its batch's
        state; a batch not yet settled lists its recipients `queued`). The cursor names the next
        row, so a page is empty only when the list is. A status filter reads on until the page
        is full or the batches end (a notice's batches are a few Query pages). The first page
        without an event filter also reads the head its publication wrote, so it tells an empty
        list from no notice by itself."""
        start_sk, skip = _delivery_cursor(cursor)
        first = start_sk or (f"{event_key}#" if event_key else " ")
        last = f"{event_key}#~" if event_key else "~"
        rows: list[dict] = []
        exists = False  # a batch or the head was read
        for batch_sk, batch_rows in self._deliveries.batch_rows(tenant_id, notice_id, first, last, limit // 25 + 4):
            exists = True
            for index, row in enumerate(batch_rows):
                if (event_key and row["event_key"] != event_key) or (batch_sk == start_sk and index < skip) \
                        or (status and row["status"] != status):
                    continue
                if len(rows) == limit:
                    return rows, _encode_delivery_cursor(batch_sk, index)
                rows.append(row)
        if not exists:  # a draft, an event filter, a notice published before heads, or none (404)
            self._current(tenant_id, notice_id, None)
        return rows, None

    def for_person(self, tenant_id: str, person_id: str, limit: int, cursor: str | None
                   ) -> Page[tuple[Notice, list[str]]]:
        """GET /me/notices: published notices, newest first, that concern an account the person is
        active in, each with those of their accounts it concerns (never the others it names)."""
        accounts = self._active_accounts(tenant_id, person_id)
        found: list = []
        if not accounts:
            return Page([], None)
        read = 0
        for notice, after in self._repo.published_pages(tenant_id, cursor, page_size=max(limit, 25)):
            read += 1
            concerned = accounts if notice.affected.get("all") else accounts.intersection(
                notice.affected.get("account_ids", ()))
            if concerned:
                found.append((notice, sorted(concerned)))
            if len(found) == limit or (read >= MAX_SCANNED_FOR_PERSON and found):
                # a bounded request, the cursor goes on from here; but a page is never empty with a
                # cursor, so one that has found nothing yet reads on to its first find or the end
                return Page(found, after)
        return Page(found, None)

    def _active_accounts(self, tenant_id: str, person_id: str) -> set[str]:
        accounts, cursor = set(), None
        while True:
            _, memberships, cursor = self._db.people.person_page(tenant_id, person_id, 100, cursor)
            accounts.update(m.account_id for m in memberships if m.status == "active")
            if cursor is None:
                return accounts

    # --- helpers -----------------------------------------------------------------------------
    def _current(self, tenant_id: str, notice_id: str, expected_version: int | None) -> Notice:
        notice = self._repo.get(tenant_id, notice_id)
        if notice is None:
            raise NotFound("Notice")
        if expected_version is not None and notice.version != expected_version:
            raise VersionConflict("Notice")
        return notice

    def _current_view(self, tenant_id: str, notice_id: str, expected_version: int | None) -> NoticeView:
        """The notice with its events, read in one Query before a change: the answer after the
        write is built from it and what was written, never read back."""
        notice, events = self._repo.with_events(tenant_id, notice_id)
        if notice is None:
            raise NotFound("Notice")
        if expected_version is not None and notice.version != expected_version:
            raise VersionConflict("Notice")
        return NoticeView(notice, events)

    def _event(self, notice: Notice, kind: str, key: str, now: str, actor: str, detail: dict | None = None,
               body: dict | None = None) -> NoticeEvent:
        return NoticeEvent(tenant_id=notice.tenant_id, notice_id=notice.notice_id, event_key=key, kind=kind,
                           notice_type=notice.type, severity=notice.severity, notice_status=notice.status,
                           title=notice.title, body=body or notice.body, affected=notice.affected,
                           starts_at=notice.starts_at, ends_at=notice.ends_at, created_at=now,
                           detail={**(detail or {}), "by": actor}, language=notice.language,
                           seq=notice.event_count + 1)

    def _write(self, before: NoticeView, changes: dict, event: NoticeEvent | None, due,
               expected_status: str | None = None, publishing: bool = False) -> NoticeView:
        """One transaction: the notice (if still the version read) and the event it mails, and
        when `publishing` the head of its deliveries; answers the notice as written. `due`: False
        leaves the due index alone, None takes the notice out, a moment sets it."""
        notice, now = before.notice, self._clock.now_iso()
        tx = self._db.transaction()
        self._repo.change(tx=tx, notice=notice, changes=changes, event=event, due=due, now=now,
                          expected_status=expected_status)
        if publishing:
            self._deliveries.add_head(tx, notice.tenant_id, notice.notice_id, now)
        tx.commit()
        if event is not None:
            self._dispatch(event)
        written = replace(notice, **changes, version=notice.version + 1, updated_at=now,
                          event_count=notice.event_count + (1 if event else 0))
        return NoticeView(written, before.events + ([event] if event else []))

    def _dispatch(self, event: NoticeEvent) -> None:
        try:
            self._fanout.send({"tenant_id": event.tenant_id, "notice_id": event.notice_id,
                               "event_key": event.event_key})
        except Exception:  # the event is safe in DynamoDB; the delivery sweep hands it on
            self._log.warning("notice event not queued; the sweep will", extra={"notice_id": event.notice_id})

    def _check(self, notice: Notice, changed: set[str] | None = None) -> str | None:
        """The rules a notice must meet whatever its state (422 naming the field). An edit
        (`changed`) checks its texts and accounts only when it changes them. Answers the notice's
        language when texts or accounts were checked."""
        problems = []
        if notice.is_maintenance:
            for name in ("starts_at", "ends_at"):
                if not getattr(notice, name):
                    problems.append(Problem(name, "is required for a maintenance"))
        if notice.starts_at and notice.ends_at and notice.ends_at <= notice.starts_at:
            problems.append(Problem("ends_at", "must be after starts_at"))
        if problems:
            raise RuleViolation("The notice is not complete.", problems)
        texts = {name: getattr(notice, name) for name in ("title", "body") if changed is None or name in changed}
        account_ids = (notice.affected.get("account_ids") or []) if changed is None or "affected" in changed else []
        if texts or account_ids:
            return self._require_texts_and_accounts(notice, texts, account_ids)
        return None

    def _check_live_edit(self, notice: Notice, changes: dict) -> None:
        fixed = [name for name in changes if name not in EDITABLE_WHEN_LIVE]
        if notice.status not in LIVE:
            fixed = list(changes)
        elif notice.status == IN_PROGRESS:
            fixed += [name for name in ("starts_at", "reminders") if name in changes]
        elif notice.status == OPEN:
            fixed += [name for name in ("reminders",) if name in changes]
        if fixed:
            raise Conflict(f"These fields cannot change while the notice is {notice.status}.", "not_editable",
                           [Problem(name, f"cannot change while {notice.status}") for name in fixed])

    def _replan(self, notice: Notice, edited: Notice, now: str) -> dict:
        """Keeps what was sent; plans the new reminders, start and end."""
        kept = {key: step for key, step in notice.steps.items() if step["state"] == DONE}
        fresh = plan(edited.starts_at, edited.ends_at, edited.reminders, now, iso)
        if notice.status == IN_PROGRESS:
            fresh = {COMPLETED: fresh[COMPLETED]}
        return {**fresh, **kept} if notice.status == SCHEDULED else {**kept, **fresh}

    def _require_texts_and_accounts(self, notice: Notice, texts: dict, account_ids: list[str]) -> str:
        """Every text in the notice's language, every named account the tenant's; answers the
        language. A notice keeps the language it was created in (the tenant's default then), so
        checking texts reads nothing; the tenant is read (with the accounts, in one request) when
        accounts are named, for a new notice, and for one created before notices kept theirs."""
        language, found = notice.language, set()
        if language is None or account_ids:
            default_language, found = self._db.tenants.default_language_and_accounts(notice.tenant_id, account_ids)
            language = language or default_language or "en"
        problems = [Problem(f"{name}.{language}", "is required (the notice's language)")
                    for name, values in texts.items() if not (values or {}).get(language)]
        if problems:
            raise RuleViolation("Texts must exist at least in the notice's language: the tenant's default "
                                "language when the notice was created.", problems)
        problems = [Problem(f"affected.account_ids[{i}]", "is not an account of this tenant")
                    for i, account_id in enumerate(account_ids) if account_id not in found]
        if problems:
            raise RuleViolation("The notice names accounts that do not exist.", problems, "unknown_account")
        return language


def _keep_language(notice: Notice, language: str | None) -> dict:
    """A notice created before notices kept their language keeps the one its check read."""
    return {"language": language} if language and notice.language is None else {}


def _close_steps(steps: dict, status: str) -> dict:
    """A maintenance that starts, ends or is cancelled by hand: what it passed is no longer due."""
    closed = {key: dict(step) for key, step in steps.items()}
    for key, step in closed.items():
        if step["state"] != PLANNED:
            continue
        if status == IN_PROGRESS and key == COMPLETED:
            continue
        step["state"] = DONE if key == STARTED and status == IN_PROGRESS else SKIPPED
    return closed


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise InvalidInput("The cursor is not valid for this list.", [Problem("cursor", "is invalid")],
                           "invalid_cursor")
    return int(cursor)


def _first_page(coverage: Coverage) -> CoverageReport:
    return CoverageReport(coverage, list(coverage.unreached_account_ids[:MAX_UNREACHED_PAGE]),
                          _offset_cursor(len(coverage.unreached_account_ids), MAX_UNREACHED_PAGE))


def _offset_cursor(total: int, end: int) -> str | None:
    return str(end) if end < total else None


def _encode_delivery_cursor(batch_sk: str, index: int) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps([batch_sk, index]).encode()).decode().rstrip("=")


def _delivery_cursor(cursor: str | None) -> tuple[str | None, int]:
    """(the batch sk, the row in it) a deliveries cursor names; a forged one is a 400."""
    import base64
    import binascii
    import json

    if not cursor:
        return None, 0
    try:
        sk, index = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(sk, str) and isinstance(index, int) and 0 <= index < 1000 and sk and len(sk) < 200:
            return sk, index
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InvalidInput("The cursor is not valid for this list.", [Problem("cursor", "is invalid")], "invalid_cursor")
