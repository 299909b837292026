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
    out = _outputs(result.stdout)
    tenant, second_key, not_ready, onboarded, with_warning, designated, after_designation, caretakers, \
        patched, by_email, access, deleted, final_warnings = out
    assert tenant["name"] == "Alpine Telecom" and tenant["default_language"] == "de"
    assert second_key["secret"].startswith("rk_") and second_key["api_key"]["name"] == "billing integration"
    assert not_ready["error"]["code"] == "onboarding_incomplete"
    assert {d["field"] for d in not_ready["error"]["details"]} == {"contacts"}
    assert onboarded["status"] == "active"
    assert [a["name"] for a in with_warning["items"]] == ["Muster AG"]
    assert designated["technical"] and designated["administrative"]
    assert after_designation == []
    assert [row["roles"] for row in caretakers["items"]] == [["admin", "administrative", "caretaker"]]
    assert patched["notifications"] == ["outage", "security"]
    assert by_email["items"][0]["first_name"] == "Anna"
    assert [row["account_name"] for row in access["items"]] == ["Muster AG"]
    assert deleted == 204
    assert final_warnings == "['no_technical_contact', 'no_on_site_admin']"
