import datetime as dt

import pandas as pd
import pytest

from crime_weather.core.storage import BlobInfo
from crime_weather.sources.catalog import CRIME, REJECTED, describe
from crime_weather.sources.crime import layouts
from crime_weather.sources.crime.layouts import detect_layout, layout_named
from crime_weather.sources.crime.parsing import crime_months, parse_crime
from crime_weather.sources.files import LandingFileError, open_raw
from crime_weather.tables.schemas import raw_crime_schema
from crime_weather_tests import builders

TODAY = dt.date(2026, 1, 1)
LAYOUTS = {
    "mapa_del_delito_2016_2017": builders.release_2016,
    "mapa_del_delito_2017_2019": builders.release_2017_2019,
    "delitos_2020": builders.release_2020,
    "delitos_current": builders.release_current,
}


def _merge_of_2017_2019_and_2020() -> pd.DataFrame:
    frame = builders.release_2017_2019()
    frame["id_mapa"] = [None, None, "RH-2020-1", "RH-2020-2"]
    frame["franja"] = [None, None, "5", "6"]
    frame.loc[2:, ["id", "franja_horaria"]] = None
    return frame


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_official_layout_maps_to_the_canonical_schema(layout):
    raw = open_raw(builders.to_csv(LAYOUTS[layout]()), f"{layout}.csv")
    parsed = parse_crime(raw, today=TODAY)
    assert parsed.layout == layout
    events = parsed.events
    raw_crime_schema("2019-03").validate(events)
    assert events["date"].dt.strftime("%Y-%m-%d").tolist() == [e[0] for e in builders.EVENTS]
    assert events["hour"].tolist() == [e[1] for e in builders.EVENTS]
    assert events["crime_type"].tolist() == ["robo", "robo", "hurto", "robo"]
    assert events["comuna"].tolist() == [3, 3, 14, 15]
    assert (events["count"] == 1).all() and parsed.bad_rows == 0


@pytest.mark.parametrize("layout", LAYOUTS)
def test_zero_coordinates_become_null(layout):
    events = parse_crime(open_raw(builders.to_csv(LAYOUTS[layout]()), "f.csv"), today=TODAY).events
    assert events["latitude"].isna().tolist() == [False, False, False, True]
    assert events["latitude"].iloc[0] == pytest.approx(-34.61)
    assert events["longitude"].iloc[2] == pytest.approx(-58.43)


def test_the_researchers_merge_fills_ids_and_hours_from_either_release():
    parsed = parse_crime(open_raw(builders.to_csv(_merge_of_2017_2019_and_2020()), "merge.csv"), today=TODAY)
    assert parsed.layout == "robos_2017_2020_merge"
    assert parsed.events["event_id"].tolist()[2:] == ["RH-2020-1", "RH-2020-2"]
    assert parsed.events["hour"].tolist() == [10, 23, 5, 6]


def test_defects_are_normalised():
    frame = builders.release_current()
    frame["latitud"] = ["SD", "-34623.0", "-34,58", "-58,4"]  # missing, no decimal point, fine, swapped
    frame["longitud"] = ["SD", "-58,41", "-58,43", "-34,6"]
    frame["franja"] = ["SD", "24", "0", None]
    frame["comuna"] = ["CC", "0", "14.0", None]
    events = parse_crime(open_raw(builders.to_csv(frame), "defects.csv"), today=TODAY).events
    assert events["latitude"].isna().tolist() == [True, True, False, True]
    assert events["hour"].isna().tolist() == [True, True, False, True]
    assert events["comuna"].isna().tolist() == [True, True, False, True]


def test_subtypes_come_from_the_type_or_the_subtype_column():
    events = parse_crime(open_raw(builders.to_csv(builders.release_2017_2019()), "f.csv"), today=TODAY).events
    assert events["crime_subtype"].tolist() == [
        "con violencia",
        "robo automotor",
        "sin violencia",
        "con violencia",
    ]
    old = pd.DataFrame(
        {**builders.release_2016().iloc[:1].to_dict("list"), "tipo_delito": ["Robo Automotor"]}
    )
    assert (
        parse_crime(open_raw(builders.to_csv(old), "o.csv"), today=TODAY).events["crime_subtype"][0]
        == "automotor"
    )


def test_unknown_layout_names_the_file_and_the_expected_columns():
    raw = open_raw(b"fecha,tipo_delito,algo\n2019-01-01,Robo,1\n", "strange.csv")
    with pytest.raises(LandingFileError) as error:
        parse_crime(raw)
    message = str(error.value)
    assert message.startswith("strange.csv: has an unknown crime layout")
    assert "delitos_current: barrio, cantidad" in message and "franja_horaria" in message


def test_bad_rows_are_counted_with_their_line_numbers():
    frame = builders.release_current()
    frame.loc[1, "fecha"] = "not a date"
    frame.loc[2, "tipo"] = None
    frame.loc[3, "fecha"] = "2031-01-01"  # in the future
    parsed = parse_crime(open_raw(builders.to_csv(frame), "bad.csv"), today=TODAY)
    assert len(parsed.events) == 1 and parsed.bad_rows == 3 and parsed.rows_read == 4
    assert {(row.line, row.reason.split()[0]) for row in parsed.bad_samples} == {
        (3, "date"),
        (5, "date"),
        (4, "crime"),
    }
    assert parsed.bad_share == pytest.approx(0.75)


def test_count_column_of_the_current_release_is_used():
    frame = builders.release_current()
    frame["cantidad"] = [2, 1, 1, 3]
    events = parse_crime(open_raw(builders.to_csv(frame), "c.csv"), today=TODAY).events
    assert events["count"].tolist() == [2, 1, 1, 3]


def test_months_are_read_from_the_date_column_alone():
    frame = pd.concat([builders.release_2020(), builders.release_2020()])
    frame.iloc[0, frame.columns.get_loc("fecha")] = "15/12/19"
    assert crime_months(open_raw(builders.to_csv(frame), "m.csv"), today=TODAY) == ["2019-03", "2019-12"]


def test_detect_layout_prefers_the_most_specific_match():
    merged = [*builders.release_2017_2019().columns, "id_mapa", "franja"]
    assert detect_layout(merged).name == "robos_2017_2020_merge"
    assert detect_layout(["fecha", "tipo"]) is None


def test_header_spellings_of_the_same_release_are_one_layout():
    frame = builders.release_current().rename(columns={"id-mapa": "id_mapa", "anio": "año", "tipo": "Tipo"})
    parsed = parse_crime(open_raw(builders.to_csv(frame), "delitos_2021.csv"), today=TODAY)
    assert parsed.layout == "delitos_current" and parsed.events["event_id"].tolist()[0] == "RH-0"


def test_a_file_s_layout_is_detected_once_from_description_to_parse(monkeypatch):
    calls: list[tuple[str, ...]] = []
    detect = layouts.detect_layout

    def counted(columns):
        calls.append(tuple(columns))
        return detect(columns)

    monkeypatch.setattr(layouts, "detect_layout", counted)
    data = builders.to_csv(builders.release_2020())
    file = describe(BlobInfo("delitos_2020.csv", "v1", len(data), 1.0), data)
    assert (file.kind, file.layout, len(calls)) == (CRIME, "delitos_2020", 1)
    raw = open_raw(data, file.key)
    parsed = parse_crime(raw, layout=layout_named(raw, file.layout), today=TODAY)
    assert parsed.layout == "delitos_2020" and len(parsed.events) == 4
    assert len(calls) == 1, "the parser searched the header again"
    parse_crime(raw, today=TODAY)  # without a described layout it does detect
    assert len(calls) == 2


def test_the_described_layout_is_the_one_used():
    """Detection would pick the merge (both releases' columns); the layout given wins, and its hour column
    alone is read, so the 2020 rows have no hour."""
    raw = open_raw(builders.to_csv(_merge_of_2017_2019_and_2020()), "merge.csv")
    assert detect_layout(raw.columns).name == "robos_2017_2020_merge"
    parsed = parse_crime(raw, layout=layout_named(raw, "mapa_del_delito_2017_2019"), today=TODAY)
    assert parsed.layout == "mapa_del_delito_2017_2019"
    assert parsed.events["hour"].isna().tolist() == [False, False, True, True]


def test_a_described_layout_the_header_no_longer_has_names_the_file_and_the_missing_columns():
    raw = open_raw(builders.to_csv(builders.release_2020().drop(columns=["franja"])), "replaced.csv")
    with pytest.raises(LandingFileError) as error:
        layout_named(raw, "delitos_2020")
    assert str(error.value).startswith("replaced.csv: lacks columns of its crime layout delitos_2020: franja")
    with pytest.raises(
        LandingFileError, match=r"^replaced.csv: .*expected one of: .*delitos_current: barrio"
    ):
        layout_named(raw, None)


def test_an_unknown_layout_is_rejected_when_described_naming_the_file_and_the_expected_columns():
    data = b"fecha,tipo_delito,algo\n2019-01-01,Robo,1\n"
    file = describe(BlobInfo("strange.csv", "v1", len(data), 1.0), data)
    assert file.kind == REJECTED
    assert file.detail.startswith(
        "strange.csv: has an unknown crime layout (columns: fecha, tipo_delito, algo)"
    )
    assert "delitos_current: barrio, cantidad" in file.detail and "franja_horaria" in file.detail
