"""SesMailer: the configuration set (AWS: bounce/complaint events → SNS) goes with every send
when it is set, and is left out when it is not (the local stack uses identity notifications)."""
import json

import pytest

from chalicelib.adapters.ses import SesMailer


class RecordingSes:
    def __init__(self):
        self.calls = []

    def send_templated_email(self, **kwargs):
        self.calls.append(("single", kwargs))
        return {"MessageId": "m-1"}

    def send_bulk_templated_email(self, **kwargs):
        self.calls.append(("bulk", kwargs))
        return {"Status": [{"Status": "Success", "MessageId": f"m-{n}"} for n, _ in enumerate(kwargs["Destinations"])]}


@pytest.mark.parametrize("recipients", [1, 3])
def test_sends_with_the_configuration_set_when_one_is_set(recipients):
    ses = RecordingSes()
    outcomes = SesMailer(ses, "roster-mail-events").send(
        "Roster <no-reply@mail.roster.test>", [], "roster-welcome-en", {"brand_name": "Roster"},
        [(f"p{n}@example.com", {"first_name": f"P{n}"}) for n in range(recipients)])

    [(kind, call)] = ses.calls
    assert kind == ("single" if recipients == 1 else "bulk")
    assert call["ConfigurationSetName"] == "roster-mail-events"
    assert all(o.ok for o in outcomes) and len(outcomes) == recipients


@pytest.mark.parametrize("configuration_set", [None, ""])
def test_sends_without_a_configuration_set_when_none_is_set(configuration_set):
    ses = RecordingSes()
    SesMailer(ses, configuration_set).send("Roster <no-reply@mail.roster.test>", [], "roster-welcome-en",
                                           {"brand_name": "Roster"}, [("a@example.com", {"first_name": "A"})])

    [(_, call)] = ses.calls
    assert "ConfigurationSetName" not in call
    assert json.loads(call["TemplateData"]) == {"brand_name": "Roster", "first_name": "A"}


def test_the_setting_is_read_from_the_environment(monkeypatch):
    from chalicelib.settings import get_settings

    monkeypatch.setenv("ROSTER_SES_CONFIGURATION_SET", "roster-mail-events")
    get_settings.cache_clear()
    try:
        assert get_settings().ses_configuration_set == "roster-mail-events"
        monkeypatch.delenv("ROSTER_SES_CONFIGURATION_SET")
        get_settings.cache_clear()
        assert get_settings().ses_configuration_set == ""
    finally:
        get_settings.cache_clear()
