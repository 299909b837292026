"""Cold start is a product feature: importing the app does no I/O and reads no settings."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import app
from chalicelib import bootstrap
assert bootstrap.get_settings.cache_info().currsize == 0, "settings were read at import time"
assert bootstrap.get_repositories.cache_info().currsize == 0, "the repositories (a DynamoDB connection) were built at import time"
loaded = {name for name in ("boto3", "botocore.client", "pynamodb.models", "aws_xray_sdk", "pydantic", "jwt",
                            "cryptography", "chalicelib.handlers.openapi_document", "jsonschema")
          if name in sys.modules}  # the OpenAPI document is built on its first request only
import chalicelib.services.auth  # what an API-key request imports to authenticate
loaded |= {name for name in ("jwt", "cryptography") if name in sys.modules}
assert not loaded, f"imported at import time: {sorted(loaded)}"
print("ok")
"""


def test_importing_the_app_touches_nothing():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
