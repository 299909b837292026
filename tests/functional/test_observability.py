"""Logs are JSON with the request id as correlation id, and never carry a full e-mail address."""
import json

from tests.functional.conftest import add_contact


def test_request_logs_are_json_with_correlation_id_and_no_email(api, account, caplog):
    from chalicelib import bootstrap

    logger = bootstrap.get_logger()
    logger.setLevel("INFO")
    caplog.clear()
    add_contact(api, account["account_id"], "secret.person@example.com", roles=["caretaker"])
    api.get(f"/accounts/{account['account_id']}/contacts")
    out = "\n".join(logger.registered_formatter.format(record) for record in caplog.records)
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines, out
    assert {line["route"] for line in lines} >= {"/accounts/{account_id}/contacts"}
    assert all(line.get("correlation_id") for line in lines)
    assert "secret.person@example.com" not in out
