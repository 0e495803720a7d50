"""The import graph is the architecture: each folder of crime_weather/ a layer, imports only downward.

Read from the source (ast), so a new module that imports upward, or Dagster where it does not belong,
fails here with the offending import named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "crime_weather"

# Lowest first: a layer may import its own and the layers before it.
LAYERS = ("core", "sources", "tables", "modeling", "orchestration", "runtime", "cli", "definitions")
PURE = ("core", "sources", "tables", "modeling")  # no Dagster: plain functions with plain tests
# What the API may import: the API image has no Dagster.
SERVING_MAY_IMPORT = ("core", "sources", "tables", "modeling")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file, function-level imports included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "crime_weather" and len(parts) > 1 else None


def sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_every_module_of_the_package_belongs_to_a_layer():
    strays = [
        str(path.relative_to(ROOT))
        for path in sources(PACKAGE)
        if path.parent == PACKAGE and path.stem not in ("__init__", "definitions")
    ]
    assert not strays, f"loose modules in crime_weather/ (put them in a layer): {strays}"
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == set(LAYERS) - {"definitions"}


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_itself_and_the_layers_below(layer: str):
    files = [PACKAGE / "definitions.py"] if layer == "definitions" else sources(PACKAGE / layer)
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imports(path)
        if (target := layer_of(module)) is not None and target not in allowed
    ]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("layer", PURE)
def test_pure_layers_do_not_import_dagster(layer: str):
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources(PACKAGE / layer)
        for line, module in imports(path)
        if module.split(".")[0].startswith("dagster")
    ]
    assert not found, "\n".join(found)


def test_the_api_imports_neither_dagster_nor_the_wiring():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources(ROOT / "serving")
        for line, module in imports(path)
        if module.split(".")[0].startswith("dagster")
        or ((target := layer_of(module)) is not None and target not in SERVING_MAY_IMPORT)
    ]
    assert not found, "\n".join(found)


def test_only_one_module_uses_dagsters_private_api():
    private = {
        str(path.relative_to(ROOT))
        for folder in (PACKAGE, ROOT / "serving", ROOT / "harness", ROOT / "crime_weather_tests")
        for path in sources(folder)
        for _, module in imports(path)
        if module.startswith("dagster._") or module.startswith("litestar._")
    }
    assert private == {"crime_weather/runtime/dagster_internals.py"}


def test_benchmarks_and_tests_share_helpers_through_harness_only():
    for path in sources(ROOT / "benchmarks"):
        text = path.read_text()
        assert "sys.path.insert" not in text, path
        assert all(not module.startswith("crime_weather_tests") for _, module in imports(path)), path
    for path in sources(ROOT / "harness"):
        assert all(
            not module.startswith(("crime_weather_tests", "benchmarks")) for _, module in imports(path)
        ), path


# modeling/ is itself layered: its sub-packages, lowest first, each importing only itself and those before.
MODELING = PACKAGE / "modeling"
MODELING_ROOMS = ("features", "estimation", "reporting", "registry", "selection", "effects", "forecasting")


def room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["crime_weather", "modeling"] and len(parts) > 2 else None


def test_modeling_has_only_its_sub_packages_at_its_root():
    loose = [path.name for path in MODELING.glob("*.py") if path.name != "__init__.py"]
    assert not loose, f"modules at modeling/'s root (put them in a sub-package): {loose}"
    rooms = {path.name for path in MODELING.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert rooms == set(MODELING_ROOMS)


@pytest.mark.parametrize("room", MODELING_ROOMS)
def test_a_modeling_sub_package_imports_only_itself_and_those_below(room: str):
    allowed = set(MODELING_ROOMS[: MODELING_ROOMS.index(room) + 1])
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources(MODELING / room)
        for line, module in imports(path)
        if (target := room_of(module)) is not None and target not in allowed
    ]
    assert not upward, "\n".join(upward)
    docstring = ast.get_docstring(ast.parse((MODELING / room / "__init__.py").read_text()))
    assert docstring, f"modeling/{room}/__init__.py says in one line what the sub-package does"


def test_no_module_of_the_package_is_over_300_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in sources(PACKAGE)
        if (n := len(path.read_text().splitlines())) > 300
    }
    assert not long, f"split these by what they do: {long}"
