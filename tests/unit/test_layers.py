"""The layers stay apart (docs/design.md): services speak domain and leave DynamoDB to the
repositories; the repositories' modules import one another without a loop."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted((ROOT / "chalicelib" / "services").glob("*.py"))
REPOSITORIES = sorted((ROOT / "chalicelib" / "repositories").glob("*.py"))
DYNAMODB = ("pynamodb", "chalicelib.models")


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function, `from x import y` as x and x.y."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_a_service_imports_neither_pynamodb_nor_the_models(path):
    found = sorted(name for name in imported(path) if name.split(".")[0] == "pynamodb" or
                   name == "chalicelib.models" or name.startswith("chalicelib.models."))
    assert not found, f"{path.name} imports {found}: DynamoDB belongs in chalicelib/repositories"


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_a_service_builds_no_repository_of_its_own(path):
    """Every repository comes from the one Repositories object the composition root builds."""
    built = sorted({node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                    for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
                    and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr).endswith("Repository")})
    assert not built, f"{path.name} builds {built}: take it from the repositories it is given"


def test_the_repositories_import_one_another_without_a_loop():
    modules = {f"chalicelib.repositories.{p.stem}": p for p in REPOSITORIES if p.stem != "__init__"}
    edges = {name: {other for other in imported(path) if other in modules and other != name}
             for name, path in modules.items()}
    visiting, done = [], set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, "import loop: " + " -> ".join(visiting[visiting.index(name):] + [name])
        visiting.append(name)
        for other in sorted(edges[name]):
            visit(other)
        visiting.pop()
        done.add(name)

    for name in sorted(modules):
        visit(name)


def test_every_repository_of_the_registry_names_a_class_of_its_module():
    from importlib import import_module

    from chalicelib.repositories.registry import Repositories, _Repository

    declared = {name: value for name, value in vars(Repositories).items() if isinstance(value, _Repository)}
    assert {"tenants", "accounts", "notices", "notice_delivery"} <= set(declared)
    for name, repository in declared.items():
        assert (ROOT / "chalicelib" / "repositories" / f"{repository.module}.py").exists(), name
        module = import_module(f"chalicelib.repositories.{repository.module}")
        assert isinstance(getattr(module, repository.class_name, None), type), name
