"""The official "delitos" schema variants: the columns that identify each and where each canonical field comes from.

A file's layout is found once, from its header, when the file is described (sources.catalog); the name travels
with the description (`LandingFile.layout`) and `layout_named` turns it back into the layout for the parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from crime_weather.sources.files import LandingFileError, RawFile


@dataclass(frozen=True)
class CrimeLayout:
    """One official schema variant: the columns that identify it and the source of each field."""

    name: str
    required: frozenset[str]
    event_id: tuple[str, ...]
    date: str
    hour: tuple[str, ...]
    crime_type: str
    crime_subtype: str | None
    comuna: str
    barrio: str
    latitude: str
    longitude: str
    count: str | None = None

    @property
    def source_columns(self) -> list[str]:
        single = [self.date, self.crime_type, self.crime_subtype, self.comuna, self.barrio]
        single += [self.latitude, self.longitude, self.count]
        return [*self.event_id, *self.hour, *(column for column in single if column)]


LAYOUTS: tuple[CrimeLayout, ...] = (
    CrimeLayout(
        name="mapa_del_delito_2016_2017",
        required=frozenset({"id", "fecha", "hora", "tipo_delito", "comuna", "barrio", "latitud", "longitud"}),
        event_id=("id",),
        date="fecha",
        hour=("hora",),
        crime_type="tipo_delito",
        crime_subtype=None,
        comuna="comuna",
        barrio="barrio",
        latitude="latitud",
        longitude="longitud",
    ),
    CrimeLayout(
        name="mapa_del_delito_2017_2019",
        required=frozenset(
            {
                "id",
                "fecha",
                "franja_horaria",
                "tipo_delito",
                "subtipo_delito",
                "comuna",
                "barrio",
                "lat",
                "long",
            }
        ),
        event_id=("id",),
        date="fecha",
        hour=("franja_horaria",),
        crime_type="tipo_delito",
        crime_subtype="subtipo_delito",
        comuna="comuna",
        barrio="barrio",
        latitude="lat",
        longitude="long",
    ),
    CrimeLayout(
        name="delitos_2020",
        required=frozenset(
            {"id_mapa", "fecha", "franja", "tipo", "subtipo", "comuna", "barrio", "latitud", "longitud"}
        ),
        event_id=("id_mapa",),
        date="fecha",
        hour=("franja",),
        crime_type="tipo",
        crime_subtype="subtipo",
        comuna="comuna",
        barrio="barrio",
        latitude="latitud",
        longitude="longitud",
    ),
    CrimeLayout(
        name="delitos_current",
        required=frozenset(
            {
                "id_mapa",
                "fecha",
                "franja",
                "tipo",
                "subtipo",
                "comuna",
                "barrio",
                "latitud",
                "longitud",
                "cantidad",
            }
        ),
        event_id=("id_mapa",),
        date="fecha",
        hour=("franja",),
        crime_type="tipo",
        crime_subtype="subtipo",
        comuna="comuna",
        barrio="barrio",
        latitude="latitud",
        longitude="longitud",
        count="cantidad",
    ),
    # A researcher's merge of the 2017-2019 and 2020 releases: both id and hour columns, filled per year.
    CrimeLayout(
        name="robos_2017_2020_merge",
        required=frozenset(
            {
                "id",
                "id_mapa",
                "fecha",
                "franja",
                "franja_horaria",
                "tipo_delito",
                "subtipo_delito",
                "comuna",
                "barrio",
                "lat",
                "long",
            }
        ),
        event_id=("id_mapa", "id"),
        date="fecha",
        hour=("franja", "franja_horaria"),
        crime_type="tipo_delito",
        crime_subtype="subtipo_delito",
        comuna="comuna",
        barrio="barrio",
        latitude="lat",
        longitude="long",
    ),
)
_BY_NAME = {layout.name: layout for layout in LAYOUTS}


def detect_layout(columns: tuple[str, ...] | list[str]) -> CrimeLayout | None:
    """The most specific layout whose identifying columns are all present, or None."""
    present = set(columns)
    matches = [layout for layout in LAYOUTS if layout.required <= present]
    return max(matches, key=lambda layout: len(layout.required), default=None)


def expected_layouts() -> str:
    """Every known layout and its identifying columns, for error messages."""
    return "; ".join(f"{layout.name}: {', '.join(sorted(layout.required))}" for layout in LAYOUTS)


def is_crime_header(columns: tuple[str, ...] | list[str]) -> bool:
    """Looks like a crime file (so a missing column is an error, not another kind of file)."""
    return bool({"tipo_delito", "tipo", "id_mapa"} & set(columns)) and "fecha" in columns


def layout_of(raw: RawFile) -> CrimeLayout:
    """The file's layout, detected from its header; an unknown one names the file and every expected layout."""
    layout = detect_layout(raw.columns)
    if layout is None:
        raise LandingFileError(
            raw.name,
            f"has an unknown crime layout (columns: {', '.join(raw.columns)}); "
            f"expected one of: {expected_layouts()}",
        )
    return layout


def layout_named(raw: RawFile, name: str | None) -> CrimeLayout:
    """The layout the file was described with, checked (not searched for) against its header.

    The file may have been replaced under the same key since it was described: a header without the
    layout's columns fails, naming the file and the columns it lacks.
    """
    layout = _BY_NAME.get(name or "")
    if layout is None:
        raise LandingFileError(
            raw.name,
            f"was described with no known crime layout ({name}); expected one of: {expected_layouts()}",
        )
    missing = layout.required - set(raw.columns)
    if missing:
        raise LandingFileError(
            raw.name,
            f"lacks columns of its crime layout {name}: {', '.join(sorted(missing))} "
            f"(columns: {', '.join(raw.columns)})",
        )
    return layout
