"""requirements.txt (what chalice bundles) must pin exactly the runtime dependencies of pyproject.toml."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not pinned with =="
            pins[name.strip().lower()] = version.strip()
    return pins


# chalice puts its own runtime (chalice/app.py) into the package; listing it would also bundle
# the chalice CLI's dependencies (pip, setuptools, yaml, ...), about 5 MB.
BUNDLED_BY_CHALICE = {"chalice"}


def test_requirements_agree_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _pins(project["dependencies"])
    assert set(runtime) >= BUNDLED_BY_CHALICE
    expected = {name: version for name, version in runtime.items() if name not in BUNDLED_BY_CHALICE}
    assert _pins((ROOT / "requirements.txt").read_text().splitlines()) == expected


def test_runtime_dependencies_leave_out_test_and_infra_tools():
    runtime = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert not {"moto", "pytest", "requests", "aws-cdk-lib", "cfn-lint", "aws-sam-translator", "chalice"} & set(runtime)
    assert "boto3" in runtime  # chalice vendors botocore but not boto3


# Installed with a runtime dependency rather than listed: boto3 requires botocore.
COMES_WITH = {"botocore": "boto3"}


def test_the_app_imports_only_the_standard_library_and_runtime_dependencies():
    """What the app imports must be in the Lambda package: a module only tests or the dev console
    install (moto, pytest, requests) fails here, and so does a runtime one left out of requirements.txt
    (PyJWT verifies person tokens)."""
    import ast
    import re
    import sys
    from importlib.metadata import packages_distributions

    sources = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    imported = set()
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "chalicelib", "app"}
    def normalised(name: str) -> str:  # PEP 503: aws_lambda_powertools is aws-lambda-powertools
        return re.sub(r"[-_.]+", "-", name).lower()

    distributions = {module: {normalised(name) for name in packages_distributions().get(module, [module])}
                     for module in third_party}
    runtime = {normalised(name) for name in _pins((ROOT / "requirements.txt").read_text().splitlines())}
    runtime |= BUNDLED_BY_CHALICE
    missing = {module: names for module, names in distributions.items()
               if not names & runtime and COMES_WITH.get(module) not in runtime}
    assert missing == {}
    assert "jwt" in third_party  # the person-token path, imported lazily (PyJWT then loads cryptography)
