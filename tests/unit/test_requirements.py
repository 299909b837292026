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
    assert not {"moto", "pytest", "aws-cdk-lib", "cfn-lint", "aws-sam-translator", "chalice",
                 "pyjwt"} & set(runtime)
    assert "boto3" in runtime  # chalice vendors botocore but not boto3


def test_the_app_never_imports_what_only_tests_and_the_dev_console_install():
    import ast

    dev_only = {"jwt", "moto", "pytest", "requests"}
    sources = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    imported = set()
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {(path.name, alias.name.split(".")[0]) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add((path.name, node.module.split(".")[0]))
    assert {(name, module) for name, module in imported if module in dev_only} == set()
