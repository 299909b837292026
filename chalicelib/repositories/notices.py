"""Notices and their events (the API's and the schedule's side; delivery has its own repository)."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.entities import Page
from chalicelib.domain.notices import DRAFT, Notice, NoticeEvent
from chalicelib.domain.errors import Contention
from chalicelib.models import keys
from chalicelib.models.notices import NoticeEventItem, NoticeItem
from chalicelib.repositories import cursor as cursors
from chalicelib.repositories.connection import table_connection
from chalicelib.repositories.items import get_item, plain, query_page


def to_notice(item: NoticeItem) -> Notice:
    return Notice(tenant_id=item.tenant_id, notice_id=item.notice_id, type=item.type, severity=item.severity,
                  status=item.status, title=plain(item.title), body=plain(item.body), affected=_affected(item.affected),
                  starts_at=item.starts_at, ends_at=item.ends_at, reminders=[int(m) for m in item.reminders or ()],
                  steps=_steps(item.steps), created_at=item.created_at, updated_at=item.updated_at,
                  published_at=item.published_at, created_by=item.created_by, version=int(item.version),
                  event_count=int(item.event_count or 0), update_count=int(item.update_count or 0),
                  coverage=plain(item.coverage) if item.coverage else None, language=item.language)


def to_event(item: NoticeEventItem) -> NoticeEvent:
    return NoticeEvent(tenant_id=item.tenant_id, notice_id=item.notice_id, event_key=item.event_key, kind=item.kind,
                       notice_type=item.notice_type, severity=item.severity, notice_status=item.notice_status,
                       title=plain(item.title), body=plain(item.body), affected=_affected(item.affected),
                       starts_at=item.starts_at, ends_at=item.ends_at, created_at=item.created_at,
                       detail=plain(item.detail) if item.detail else {}, language=item.language,
                       seq=int(item.seq or 0), fanout=item.fanout,
                       fanout_detail=item.fanout_detail,
                       **{name: int(getattr(item, name) or 0) for name in EVENT_FIGURES})


EVENT_FIGURES = ("recipients", "batches", "affected_accounts", "unreached_accounts", "sent", "failed", "suppressed",
                 "bounced", "complained")


def _affected(value) -> dict:
    affected = plain(value)
    if "account_ids" in affected:
        affected["account_ids"] = list(affected["account_ids"])
    return affected


def _steps(value) -> dict:
    return {key: {k: (int(v) if k == "minutes" else v) for k, v in plain(step).items()}
            for key, step in plain(value).items()}


def list_sort_key(notice: Notice) -> str:
    """Lists run by the notice's time: its start, else when it was created."""
    return keys.created(notice.starts_at or notice.created_at, notice.notice_id)


class NoticeRepository:
    def key(self, tenant_id: str, notice_id: str) -> tuple[str, str]:
        return keys.notice(tenant_id, notice_id), keys.NOTICE_SK

    def ref(self, tenant_id: str, notice_id: str) -> NoticeItem:
        return NoticeItem(*self.key(tenant_id, notice_id))

    def new_item(self, n: Notice) -> NoticeItem:
        return NoticeItem(
            *self.key(n.tenant_id, n.notice_id), tenant_id=n.tenant_id, notice_id=n.notice_id, type=n.type,
            severity=n.severity, status=n.status, title=n.title, body=n.body, affected=n.affected,
            starts_at=n.starts_at, ends_at=n.ends_at, reminders=list(n.reminders), steps=n.steps,
            created_at=n.created_at, updated_at=n.updated_at, published_at=n.published_at, created_by=n.created_by,
            version=n.version, language=n.language, list_pk=keys.notices_list(n.tenant_id),
            list_sk=list_sort_key(n), status_pk=keys.notices_by_status(n.tenant_id, n.status))

    def create(self, notice: Notice) -> None:
        self.new_item(notice).save(condition=NoticeItem.pk.does_not_exist())

    def delete_at(self, notice: Notice) -> bool:
        """Deletes the notice if it is still the version read; False if it is not."""
        from pynamodb.exceptions import DeleteError

        try:
            self.ref(notice.tenant_id, notice.notice_id).delete(condition=NoticeItem.version == notice.version)
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def change(self, tx, notice: Notice, changes: dict, event: NoticeEvent | None, due, now: str,
               expected_status: str | None = None) -> None:
        """Puts into `tx` the notice's changes (if it is still the version read, and in
        `expected_status` when given) and the event it mails. `due`: False leaves the due index
        alone, None takes the notice out, a moment sets it."""
        actions = self.write_actions(replace(notice, **changes), changes)
        if due is not False:
            actions += self.due_actions(notice.tenant_id, notice.notice_id, due)
        if event is not None:
            actions.append(NoticeItem.event_count.add(1))
        actions += [NoticeItem.version.add(1), NoticeItem.updated_at.set(now)]
        condition = NoticeItem.version == notice.version
        if expected_status is not None:
            condition &= NoticeItem.status == expected_status
        tx.update(self.ref(notice.tenant_id, notice.notice_id), actions, condition=condition, error=Contention())
        if event is not None:
            tx.put(self.new_event_item(event), condition=NoticeItem.pk.does_not_exist(), error=Contention())

    def write_actions(self, notice: Notice, changes: dict) -> list:
        """SET actions for changed fields; the list and status indexes follow."""
        actions = []
        for name, value in changes.items():
            attribute = getattr(NoticeItem, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        if "status" in changes:
            actions.append(NoticeItem.status_pk.set(keys.notices_by_status(notice.tenant_id, changes["status"])))
        if "starts_at" in changes:
            actions.append(NoticeItem.list_sk.set(list_sort_key(notice)))
        return actions

    def set_coverage(self, tenant_id: str, notice_id: str, coverage: dict) -> None:
        """The coverage counted at publishing (derived data: the notice's version stays)."""
        self.ref(tenant_id, notice_id).update([NoticeItem.coverage.set(coverage)], condition=NoticeItem.pk.exists())

    def due_actions(self, tenant_id: str, notice_id: str, due_at: str | None) -> list:
        """Enters the notice in the schedule's due index at `due_at` (or takes it out)."""
        if due_at is None:
            return [NoticeItem.pending_pk.remove(), NoticeItem.pending_sk.remove()]
        return [NoticeItem.pending_pk.set(keys.NOTICES_DUE),
                NoticeItem.pending_sk.set(keys.due(due_at, tenant_id, notice_id))]

    def get(self, tenant_id: str, notice_id: str) -> Notice | None:
        item = get_item(NoticeItem, *self.key(tenant_id, notice_id))
        return to_notice(item) if item else None

    def with_events(self, tenant_id: str, notice_id: str) -> tuple[Notice | None, list[NoticeEvent]]:
        """The notice and every event of it: one Query of its partition."""
        notice, events, start = None, [], None
        connection = table_connection(NoticeItem)  # raw items: the partition holds two models
        while True:
            response = connection.query(keys.notice(tenant_id, notice_id), consistent_read=True,
                                        exclusive_start_key=start)
            for raw in response.get("Items", []):
                sort_key = raw["sk"]["S"]
                if sort_key == keys.NOTICE_SK:
                    notice = to_notice(NoticeItem.from_raw_data(raw))
                elif sort_key.startswith(keys.EVENT_PREFIX):
                    events.append(to_event(NoticeEventItem.from_raw_data(raw)))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        events.sort(key=lambda e: (e.seq, e.created_at))
        return notice, events

    def page(self, tenant_id: str, notice_type: str | None, status: str | None, since: str | None,
             until: str | None, limit: int, cursor: str | None) -> Page[Notice]:
        condition = _time_range(NoticeItem.list_sk, since, until)
        type_filter = (NoticeItem.type == notice_type) if notice_type else None
        if status:
            items, next_cursor = query_page(NoticeItem.by_status.query, "status_pk",
                                            keys.notices_by_status(tenant_id, status), limit, cursor,
                                            range_key_condition=condition, filter_condition=type_filter,
                                            scan_index_forward=False)
        else:
            items, next_cursor = query_page(NoticeItem.by_list.query, "list_pk", keys.notices_list(tenant_id), limit,
                                            cursor, range_key_condition=condition, filter_condition=type_filter,
                                            scan_index_forward=False)
        return Page([to_notice(item) for item in items], next_cursor)

    def published_pages(self, tenant_id: str, cursor: str | None, page_size: int):
        """The tenant's notices, newest first, drafts left out; yields (notice, cursor after it)."""
        start = cursors.decode(cursor, "list_pk", keys.notices_list(tenant_id),
                               {"pk": "S", "sk": "S", "list_pk": "S", "list_sk": "S"})
        result = NoticeItem.by_list.query(keys.notices_list(tenant_id), scan_index_forward=False,
                                          filter_condition=NoticeItem.status != DRAFT, last_evaluated_key=start,
                                          page_size=page_size)
        for item in result:
            yield to_notice(item), cursors.encode({"pk": {"S": item.pk}, "sk": {"S": item.sk},
                                                   "list_pk": {"S": item.list_pk}, "list_sk": {"S": item.list_sk}})

    def due(self, now: str, limit: int) -> list[tuple[str, str]]:
        """Maintenance notices with a step due: one Query on the due index (`<moment>#…` ≤ now)."""
        return [(item.tenant_id, item.notice_id) for item in
                NoticeItem.by_due.query(keys.NOTICES_DUE, NoticeItem.pending_sk < f"{now}$", limit=limit)]

    # --- events ------------------------------------------------------------------------------
    def new_event_item(self, e: NoticeEvent) -> NoticeEventItem:
        return NoticeEventItem(
            keys.notice(e.tenant_id, e.notice_id), keys.notice_event(e.event_key), tenant_id=e.tenant_id,
            notice_id=e.notice_id, event_key=e.event_key, seq=e.seq, kind=e.kind, notice_type=e.notice_type,
            severity=e.severity, notice_status=e.notice_status, title=e.title, body=e.body, affected=e.affected,
            starts_at=e.starts_at, ends_at=e.ends_at, detail=e.detail or None, language=e.language,
            created_at=e.created_at,
            fanout=e.fanout, pending_pk=keys.NOTICE_EVENTS_FANNING,
            pending_sk=keys.due(e.created_at, e.tenant_id, e.notice_id, f"#{e.event_key}"))

def _time_range(attribute, since: str | None, until: str | None):
    if since and until:
        return attribute.between(since, f"{until}$")
    if since:
        return attribute >= since
    if until:
        return attribute < f"{until}$"
    return None
