"""One feature vocabulary (tables/terms.py): every term is built by it, nowhere a second way.

A scan of the source (ast) fails on a threshold, holiday lookup, calendar accessor, rain transform,
anomaly or temperature bin built outside the vocabulary, and on a feature column read by its number;
equality tests check that daily_features (pandas) and the model's matrix (numpy) agree.

Data here is generated (harness.models.synthetic_features), never real.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import MODEL_INPUTS, TARGET
from crime_weather.modeling.estimation.estimators import OffsetRegressor, SplineGLM
from crime_weather.modeling.estimation.pipeline import model_input
from crime_weather.modeling.features.matrix import feature_layout, feature_layout_of, rate_layout_of
from crime_weather.modeling.features.transformer import LevelFeatures
from crime_weather.tables import terms
from crime_weather.tables.features import calendar_columns
from harness.models import synthetic_features

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY = ROOT / "crime_weather" / "tables" / "terms.py"
SCANNED = (ROOT / "crime_weather", ROOT / "serving")
# Feature matrices are built and read here: a column is named, never numbered.
MODELING = ROOT / "crime_weather" / "modeling"
MATRIX_CODE = (
    MODELING / "estimation",
    MODELING / "features" / "transformer.py",
    MODELING / "features" / "matrix.py",
)
# Still building terms their own way, to be wired to the vocabulary (issue 17). An entry that no
# longer finds anything fails below: remove it.

CALENDAR_ACCESSORS = {"weekday", "isoweekday", "dayofweek", "day_of_week", "dayofyear", "day_of_year"}
WEATHER_WORDS = re.compile(r"(?<![a-z])rain|precip", re.IGNORECASE)  # rain_mm, log1p_rain; not train
THRESHOLD_NAMES = re.compile(r"^[A-Z0-9_]*((?<![A-Z])RAIN|TEMP|HOLIDAY|EDGES)[A-Z0-9_]*$")
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
NORMAL = re.compile(r"\bnormal(s|_\w*)?\b")  # a day's normal (normal, normals, normal_temp), not normalize()


def _numeric_literal(node: ast.AST) -> bool:
    """1.0, -3, (10.0, 15.0): a number written down, alone or in a tuple or list."""
    if isinstance(node, ast.Tuple | ast.List):
        return bool(node.elts) and all(_numeric_literal(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        return _numeric_literal(node.operand)
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _literal_column(index: ast.AST) -> bool:
    """`[:, 6]`, `[:, [4, 5]]`, `[:, 2:]`: a column picked by its number."""
    if not (isinstance(index, ast.Tuple) and len(index.elts) == 2):
        return False
    column = index.elts[1]
    if isinstance(column, ast.Slice):
        return any(isinstance(bound, ast.Constant) for bound in (column.lower, column.upper))
    if isinstance(column, ast.List):
        return bool(column.elts) and all(isinstance(e, ast.Constant) for e in column.elts)
    return isinstance(column, ast.Constant) and isinstance(column.value, int)


def second_builds(path: Path, *, reads_matrices: bool | None = None) -> list[str]:
    """Where `path` builds a term of the vocabulary itself: `line: what`. `reads_matrices`: check
    for columns read by number too (default: if `path` is in MATRIX_CODE)."""
    text = path.read_text()
    source = lambda node: ast.get_source_segment(text, node) or ""  # noqa: E731
    if reads_matrices is None:
        reads_matrices = any(path.is_relative_to(place) for place in MATRIX_CODE)
    found = []
    for node in ast.walk(ast.parse(text)):
        what = None
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(module.split(".")[0] == "holidays" for module in modules):
                what = "holiday lookup"
        elif isinstance(node, ast.Attribute) and node.attr in CALENDAR_ACCESSORS:
            if not (isinstance(node.value, ast.Name) and node.value.id == "terms"):
                what = f"calendar accessor .{node.attr}"
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(op, ORDERING) for op in node.ops)
            and WEATHER_WORDS.search(source(node))
        ):
            what = "rain threshold"
        elif isinstance(node, ast.Call) and source(node.func).split(".")[-1] in ("log1p", "digitize", "cut"):
            what = f"{source(node.func)} of a weather value"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and NORMAL.search(source(node)):
            what = "anomaly"
        elif isinstance(node, ast.Assign) and _numeric_literal(node.value):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if any(THRESHOLD_NAMES.search(name) for name in names):
                what = f"threshold constant {', '.join(names)}"
        elif isinstance(node, ast.Subscript) and reads_matrices and _literal_column(node.slice):
            what = "feature column by number"
        if what:
            found.append(f"{node.lineno}: {what}: {source(node)[:60]}")
    return found


def _scan() -> dict[str, list[str]]:
    files = [path for folder in SCANNED for path in sorted(folder.rglob("*.py")) if path != VOCABULARY]
    return {str(path.relative_to(ROOT)): found for path in files if (found := second_builds(path))}


def test_no_term_is_built_outside_the_vocabulary():
    found = _scan()
    assert not found, "built outside crime_weather/tables/terms.py:\n" + "\n".join(
        f"{path}:{line}" for path, lines in found.items() for line in lines
    )


@pytest.mark.parametrize(
    "snippet",
    [
        "import holidays",
        "x = frame['date'].dt.dayofyear",
        "wet = precipitation_mm >= 1.0",
        "y = np.log1p(rain)",
        "anomaly = temp - normal_temp",
        "RAIN_DAY_MM = 1.0",
        "bins = np.digitize(temp, (10.0, 15.0))",
    ],
)
def test_the_scan_finds_a_second_build(tmp_path: Path, snippet: str):
    module = tmp_path / "module.py"
    module.write_text(f"{snippet}\n")
    assert second_builds(module)


def test_the_scan_finds_a_column_read_by_its_number(tmp_path: Path):
    assert not second_builds(MODELING / "estimation" / "estimators.py", reads_matrices=True)
    module = tmp_path / "module.py"
    module.write_text("a = Z[:, 6]\nb = Z[:, [4, 5, 7]]\nc = F[:, 2:]\nd = history[k, offset]\n")
    assert [line.split(":")[0] for line in second_builds(module, reads_matrices=True)] == ["1", "2", "3"]


# --- the pandas path (daily_features) and the numpy path (the model) agree ---------------------------

YEAR_AND_MORE = [f"2018-{m:02d}" for m in range(1, 13)] + ["2019-01"]  # a seasonal day_of_year
DAYS = pd.Series(pd.date_range("2015-01-01", "2026-12-31"))  # every day: every holiday of 12 years


@pytest.fixture(scope="module")
def features() -> LevelFeatures:
    data = pd.concat(synthetic_features(YEAR_AND_MORE).values(), ignore_index=True)
    return LevelFeatures().fit(model_input(data), data[TARGET])


def test_daily_features_and_the_models_matrix_have_the_same_calendar(features: LevelFeatures):
    assert features.seasonal_
    requests = pd.DataFrame({"date": DAYS.dt.strftime("%Y-%m-%d"), "comuna": 1}).reindex(
        columns=list(MODEL_INPUTS)
    )
    matrix = features.transform(requests)
    layout = feature_layout(weather=True)
    table = calendar_columns(DAYS)
    for name in (terms.WEEKDAY, terms.DAY_OF_YEAR, terms.IS_HOLIDAY):
        np.testing.assert_array_equal(
            layout.column(matrix, name), table[name].astype("float64"), err_msg=name
        )
    assert table[terms.IS_HOLIDAY].sum() > 12 * 12


def test_the_models_weather_columns_are_the_vocabularys(features: LevelFeatures):
    rain = np.array([0.0, 0.99, 1.0, 12.0, -1.0])
    temp = np.array([9.0, 15.0, 20.0, 28.0, 31.0])
    requests = pd.DataFrame(
        {"date": ["2019-03-24"] * 5, "comuna": 3, "precipitation_mm": rain, "temp_mean": temp}
    ).reindex(columns=list(MODEL_INPUTS))
    matrix = features.transform(requests)
    layout = feature_layout(weather=True)
    for name, values in terms.rain_terms(rain).items():
        np.testing.assert_array_equal(layout.column(matrix, name), values, err_msg=name)
    normal = features.normals_[0, 83 - 1]  # temp_mean's normal on 24 March (day 83)
    np.testing.assert_array_equal(layout.column(matrix, terms.TEMP_ANOMALY), terms.anomaly(temp, normal))


def test_the_layout_is_the_matrix_names_and_a_matrix_of_another_width_is_refused(features: LevelFeatures):
    assert tuple(features.get_feature_names_out()) == feature_layout(weather=True).names
    assert tuple(LevelFeatures(weather=False).get_feature_names_out()) == feature_layout(weather=False).names
    with pytest.raises(ValueError, match="a feature matrix of 7 columns"):
        feature_layout_of(np.zeros((2, 7)))
    with pytest.raises(ValueError, match="a feature matrix of 3 columns"):
        rate_layout_of(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="columns: expected"):
        OffsetRegressor(SplineGLM()).fit(np.ones((30, 7)), np.ones(30))
