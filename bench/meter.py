"""A meter of AWS usage on botocore's public events: every call's service and operation, DynamoDB
capacity units as DynamoDB bills them, SES mails, SQS messages, Lambda invocations, the product's
CPU time with the emulator's excluded, and the product's sleeps.

Installed into botocore's built-in handlers (first in line, so before moto's `before-send` stub),
every client created afterwards carries it. Only calls made while `recording` count.

DynamoDB units are computed from item sizes, never taken from moto's `ConsumedCapacity` (moto
answers fixed figures such as 0.5 or 1.0 whatever the item). The sizes come from a side client
(its calls are not metered): the item before a write and after it (a write bills the larger,
at least 1 unit per KB), the full item a GetItem or BatchGetItem reads (a projection does not
lower the bill), the page a Query or Scan reads again without its projection and filter.
Global secondary indexes are read from DescribeTable once per table; a write bills each index
whose entry it adds, changes (a key change: delete + put) or removes, at the projected size.
Transactions bill ×2 (the index writes they cause are counted once).
"""
from __future__ import annotations

import math
import re
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

KB = 1024
READ_UNIT = 4 * KB
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
MAIL_OPERATIONS = {"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkTemplatedEmail"}


@dataclass
class Call:
    function: str  # the Lambda function (or "api", or "esm" for the SQS poller's own requests)
    service: str
    operation: str
    rcu: float = 0.0
    wcu: float = 0.0
    mails: int = 0
    messages: int = 0  # SQS messages sent
    delay_seconds: int = 0  # SQS DelaySeconds asked for (summed over messages)
    error: str = ""

    def __str__(self) -> str:
        return self.operation if self.service == "DynamoDB" else f"{self.service}.{self.operation}"


@dataclass
class Invocation:
    function: str
    cpu_ms: float = 0.0  # the product's: process CPU minus the emulator's and the meter's
    sleep_s: float = 0.0  # time.sleep called from chalicelib
    calls: list[Call] = field(default_factory=list)


# --- item sizes, as DynamoDB counts them ---------------------------------------------------------
def number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())  # M


def item_size(item: dict | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(before: dict | None, after: dict | None) -> int:
    return max(1, math.ceil(max(item_size(before), item_size(after)) / KB))


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / READ_UNIT)) * (1.0 if consistent else 0.5)


@dataclass
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    included: tuple[str, ...] = ()

    def entry(self, item: dict | None, table_keys: tuple[str, ...]) -> dict | None:
        if not item or any(k not in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return item
        names = set(self.keys) | set(table_keys) | set(self.included)
        return {k: v for k, v in item.items() if k in names}

    def writes(self, before: dict | None, after: dict | None, table_keys: tuple[str, ...]) -> int:
        old, new = self.entry(before, table_keys), self.entry(after, table_keys)
        if old == new:
            return 0
        if old is not None and new is not None and any(old[k] != new[k] for k in self.keys):
            return math.ceil(item_size(old) / KB) + math.ceil(item_size(new) / KB)  # delete + put
        return max(1, math.ceil(item_size(new if new is not None else old) / KB))


# --- the meter -----------------------------------------------------------------------------------
class Meter:
    def __init__(self, region: str = "eu-central-1", skip_sqs_delays: bool = True) -> None:
        self.region = region
        self.skip_sqs_delays = skip_sqs_delays  # moto would hold delayed messages in real time
        self.recording = False
        self.function = "api"
        self.calls: list[Call] = []
        self.invocations: list[Invocation] = []
        self._local = threading.local()
        self._tables: dict[str, tuple[tuple[str, ...], list[Index]]] = {}
        self._side = None
        self._excluded_s = 0.0  # CPU of the emulator and the meter, all threads
        self._sleep_s = 0.0
        self._lock = threading.Lock()
        self._entries = [("provide-client-params", self._on_params), ("before-send", self._on_send),
                         ("before-parse", self._on_parse), ("after-call", self._on_after_call)]

    @property
    def slept_s(self) -> float:
        return self._sleep_s

    # installing -----------------------------------------------------------------------------
    @contextmanager
    def installed(self) -> Iterator["Meter"]:
        from botocore.handlers import BUILTIN_HANDLERS

        BUILTIN_HANDLERS[0:0] = self._entries
        real_sleep, time.sleep = time.sleep, self._sleep_factory(time.sleep)
        try:
            yield self
        finally:
            time.sleep = real_sleep
            for entry in self._entries:
                BUILTIN_HANDLERS.remove(entry)

    def _sleep_factory(self, real_sleep):
        """time.sleep as chalicelib sees it: recorded, not slept (a Lambda would bill it);
        sleeps anywhere else (botocore, moto) are real."""

        def sleep(seconds: float) -> None:
            if sys._getframe(1).f_globals.get("__name__", "").startswith("chalicelib"):
                with self._lock:
                    self._sleep_s += seconds
                return
            real_sleep(seconds)

        return sleep

    @contextmanager
    def invocation(self, function: str) -> Iterator[Invocation]:
        """One Lambda invocation (or API request): its calls, CPU and sleeps."""
        record = Invocation(function)
        previous = self.function, self.recording, len(self.calls)
        self.function, self.recording = function, True
        cpu0, excluded0, sleep0 = time.process_time(), self._excluded_s, self._sleep_s
        try:
            yield record
        finally:
            record.cpu_ms = ((time.process_time() - cpu0) - (self._excluded_s - excluded0)) * 1000
            record.sleep_s = self._sleep_s - sleep0
            record.calls = self.calls[previous[2]:]
            self.function, self.recording = previous[0], previous[1]
            if function != "esm":
                self.invocations.append(record)

    @contextmanager
    def muted(self) -> Iterator[None]:
        previous, self._local.muted = getattr(self._local, "muted", False), True
        try:
            yield
        finally:
            self._local.muted = previous

    def _active(self) -> bool:
        return self.recording and not getattr(self._local, "muted", False)

    @contextmanager
    def _excluded(self) -> Iterator[None]:
        start = time.thread_time()
        try:
            with self.muted():
                yield
        finally:
            with self._lock:
                self._excluded_s += time.thread_time() - start

    # botocore events ------------------------------------------------------------------------
    def _on_params(self, params=None, model=None, context=None, **_: Any) -> None:
        if not self._active() or context is None:
            return
        with self._excluded():
            service = str(model.service_model.service_id).replace(" ", "")
            call = Call(self.function, service, model.name)
            context["bench_call"] = call
            if service == "DynamoDB" and model.name in WRITES:
                context["bench_before"] = self._images(model.name, params)
            elif service == "SQS":
                self._sqs(call, params)
            elif service == "SES" and model.name in MAIL_OPERATIONS:
                call.mails = _mails(model.name, params)
            context["bench_params"] = params

    def _on_send(self, **_: Any) -> None:
        if self._active():
            self._local.sent = time.thread_time()

    def _on_parse(self, **_: Any) -> None:
        started = getattr(self._local, "sent", None)
        if started is not None and self._active():
            self._local.sent = None
            with self._lock:
                self._excluded_s += time.thread_time() - started

    def _on_after_call(self, parsed=None, model=None, context=None, **_: Any) -> None:
        call = (context or {}).pop("bench_call", None)
        if call is None or not self._active():
            return
        with self._excluded():
            if isinstance(parsed, dict) and "Error" in parsed:
                call.error = parsed["Error"].get("Code", "error")
            if call.service == "DynamoDB":
                params = context.pop("bench_params")
                if model.name in WRITES:
                    call.wcu = self._write_units(model.name, params, context.pop("bench_before"), parsed)
                elif model.name in READS:
                    call.rcu = self._read_units(model.name, params, parsed)
            with self._lock:
                self.calls.append(call)

    # SQS, SES ---------------------------------------------------------------------------------
    def _sqs(self, call: Call, params: dict) -> None:
        entries = params.get("Entries") if call.operation == "SendMessageBatch" else \
            [params] if call.operation == "SendMessage" else []
        call.messages = len(entries)
        for entry in entries:
            call.delay_seconds += int(entry.get("DelaySeconds", 0))
            if self.skip_sqs_delays:
                entry.pop("DelaySeconds", None)

    # DynamoDB ---------------------------------------------------------------------------------
    def _client(self):
        if self._side is None:
            import boto3

            self._side = boto3.session.Session().client("dynamodb", region_name=self.region)
        return self._side

    def _table(self, name: str) -> tuple[tuple[str, ...], list[Index]]:
        if name not in self._tables:
            table = self._client().describe_table(TableName=name)["Table"]
            keys = tuple(k["AttributeName"] for k in table["KeySchema"])
            indexes = [Index(i["IndexName"], tuple(k["AttributeName"] for k in i["KeySchema"]),
                             i["Projection"]["ProjectionType"], tuple(i["Projection"].get("NonKeyAttributes", ())))
                       for i in table.get("GlobalSecondaryIndexes", [])]
            self._tables[name] = keys, indexes
        return self._tables[name]

    def _get(self, table: str, key: dict, consistent: bool = True) -> dict | None:
        return self._client().get_item(TableName=table, Key=key, ConsistentRead=consistent).get("Item")

    def _key(self, table: str, item: dict) -> dict:
        return {k: item[k] for k in self._table(table)[0]}

    def _targets(self, operation: str, params: dict) -> list[tuple[str, str, dict]]:
        """(kind, table, key) of each item a write touches; kind is Put, Update, Delete or ConditionCheck."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            kind = operation.removesuffix("Item")
            key = self._key(params["TableName"], params["Item"]) if kind == "Put" else params["Key"]
            return [(kind, params["TableName"], key)]
        if operation == "BatchWriteItem":
            return [("Put", table, self._key(table, r["PutRequest"]["Item"])) if "PutRequest" in r
                    else ("Delete", table, r["DeleteRequest"]["Key"])
                    for table, requests in params["RequestItems"].items() for r in requests]
        targets = []
        for entry in params["TransactItems"]:  # TransactWriteItems
            (kind, body), = entry.items()
            table = body["TableName"]
            targets.append((kind, table, self._key(table, body["Item"]) if kind == "Put" else body["Key"]))
        return targets

    def _images(self, operation: str, params: dict) -> list[dict | None]:
        return [self._get(table, key) for _, table, key in self._targets(operation, params)]

    def _write_units(self, operation: str, params: dict, before: list, parsed: dict) -> float:
        factor = 2 if operation == "TransactWriteItems" else 1
        unprocessed = {repr(r) for rs in (parsed.get("UnprocessedItems") or {}).values() for r in rs}
        requests = [r for rs in params.get("RequestItems", {}).values() for r in rs]
        units = 0.0
        for n, ((kind, table, key), old) in enumerate(zip(self._targets(operation, params), before)):
            if requests and repr(requests[n]) in unprocessed:
                continue
            new = old if kind == "ConditionCheck" else self._get(table, key)
            units += factor * write_units(old, new)
            table_keys, indexes = self._table(table)
            units += sum(index.writes(old, new, table_keys) for index in indexes)
        return units

    def _read_units(self, operation: str, params: dict, parsed: dict) -> float:
        if operation == "GetItem":
            consistent = bool(params.get("ConsistentRead"))
            return read_units(item_size(self._get(params["TableName"], params["Key"], consistent)), consistent)
        if operation == "TransactGetItems":
            return sum(2 * read_units(item_size(self._get(g["Get"]["TableName"], g["Get"]["Key"])), True)
                       for g in params["TransactItems"])
        if operation == "BatchGetItem":
            unprocessed = parsed.get("UnprocessedKeys") or {}
            units = 0.0
            for table, request in params["RequestItems"].items():
                consistent = bool(request.get("ConsistentRead"))
                left = unprocessed.get(table, {}).get("Keys", [])
                units += sum(read_units(item_size(self._get(table, key, consistent)), consistent)
                             for key in request["Keys"] if key not in left)
            return units
        # Query, Scan: the same page again, without projection, filter or count
        again = {k: v for k, v in params.items()
                 if k not in ("ProjectionExpression", "FilterExpression", "Select", "AttributesToGet",
                              "ExpressionAttributeNames", "ExpressionAttributeValues", "ReturnConsumedCapacity")}
        used = params.get("KeyConditionExpression", "")
        for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in params.get(name, {}).items() if re.search(re.escape(k) + r"\b", used)}
            if kept:
                again[name] = kept
        page = getattr(self._client(), "query" if operation == "Query" else "scan")(**again)
        size = sum(item_size(item) for item in page.get("Items", []))
        return read_units(size, bool(params.get("ConsistentRead")))

    # summaries --------------------------------------------------------------------------------
    def totals(self, calls: list[Call] | None = None) -> dict:
        calls = self.calls if calls is None else calls
        dynamodb = [c for c in calls if c.service == "DynamoDB"]
        return {
            "requests": dict(sorted(Counter(f"{c.service}.{c.operation}" for c in calls).items())),
            "dynamodb_reads": sum(c.operation in READS for c in dynamodb),
            "dynamodb_writes": sum(c.operation in WRITES for c in dynamodb),
            "rcu": sum(c.rcu for c in dynamodb), "wcu": sum(c.wcu for c in dynamodb),
            "ses_calls": sum(c.service == "SES" and c.operation in MAIL_OPERATIONS for c in calls),
            "mails": sum(c.mails for c in calls),
            "sqs_requests": sum(c.service == "SQS" for c in calls),
            "sqs_messages": sum(c.messages for c in calls),
            "sqs_delay_seconds": sum(c.delay_seconds for c in calls),
        }


def _mails(operation: str, params: dict) -> int:
    """SES bills each recipient (To, Cc, Bcc) of each destination as one mail."""
    def count(destination: dict) -> int:
        return sum(len(destination.get(f, [])) for f in ("ToAddresses", "CcAddresses", "BccAddresses"))

    if operation == "SendBulkTemplatedEmail":
        return sum(count(d["Destination"]) for d in params["Destinations"])
    if operation == "SendRawEmail":
        return len(params.get("Destinations", [])) or 1
    return count(params["Destination"])
