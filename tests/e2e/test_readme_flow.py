"""The README's curl walk-through, run as written against a local stack started by the test."""
import json
import re
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.e2e


def _readme_script() -> str:
    text = README.read_text()
    section = text.split("## The whole flow with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def _outputs(stdout: str) -> list:
    """Every answer the script printed, as JSON where it is JSON."""
    decoder, values = json.JSONDecoder(), []
    for line in filter(None, (line.strip() for line in stdout.splitlines())):
        try:
            values.append(decoder.decode(line))
        except ValueError:
            values.append(line)
    return values


def test_readme_flow_runs_as_documented(local_stack, tmp_path):
    script = _readme_script()
    assert "API=http://127.0.0.1:8000" in script and "PK=dev-platform-key" in script
    script = script.replace("API=http://127.0.0.1:8000", f"API={local_stack.api_url}")
    script = script.replace("PK=dev-platform-key", f"PK={local_stack.platform_key}")
    # One answer a line, so the test can tell them apart; the README's commands stay as written.
    (tmp_path / ".curlrc").write_text('write-out = "\\n"\n')
    result = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/local/bin:/usr/bin:/bin", "CURL_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr + result.stdout
    out = iter(_outputs(result.stdout))
    assert next(out) == {"status": "ok"}
    tenant = next(out)
    assert tenant["name"] == "Alpine Telecom" and tenant["default_language"] == "de"
    assert next(out)["description"] == "Cloud telephony for SMEs"
    keys = next(out)["items"]
    assert [k["name"] for k in keys] == ["initial", "billing integration"]
    assert all("secret" not in k and "secret_hash" not in k for k in keys)
    assert next(out) == 204
    assert [a["name"] for a in next(out)["items"]] == ["Muster AG"]
    assert next(out)["email_domains"] == ["muster.ch"]
    not_ready = next(out)
    assert not_ready["error"]["code"] == "onboarding_incomplete"
    assert {d["field"] for d in not_ready["error"]["details"]} == {"contacts"}
    assert next(out) == "active"
    assert [a["name"] for a in next(out)["items"]] == ["Muster AG"]
    designated = next(out)
    assert designated["technical"] and designated["administrative"]
    assert next(out) == designated
    assert next(out) == []
    assert [row["roles"] for row in next(out)["items"]] == [["admin", "administrative", "caretaker"]]
    ben = next(out)
    assert ben["person"]["first_name"] == "Ben" and ben["roles"] == ["on_site_admin", "technical"]
    assert next(out)["notifications"] == ["outage", "security"]
    assert next(out)["items"][0]["first_name"] == "Anna"
    assert next(out)["phone"] == "+41449876543"
    assert [row["account_name"] for row in next(out)["items"]] == ["Muster AG"]
    assert next(out) == "False"
    assert [next(out), next(out), next(out), next(out)] == [204, 204, 204, 404]
    assert next(out) == "['no_technical_contact', 'no_on_site_admin']"
    assert next(out, None) is None
