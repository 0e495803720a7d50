"""comuna_boundaries: the 15 comunas' polygons, validated, in the warehouse as GeoJSON for the API.

The newest boundaries file of the landing zone (BA Data's "Comunas", recognised by content) is
validated and normalised by sources/boundaries.py; a file that is not the 15 comunas fails the run
naming every problem and the stored file stays as it was. landing_sensor requests a run when such a
file lands or changes (boundaries_job).
"""

import dagster as dg

from crime_weather.orchestration.jobs import STAGE_TAG
from crime_weather.orchestration.resources import LandingZone, WarehouseIOManager
from crime_weather.sources.boundaries import (
    AREA_TOLERANCE,
    CITY_AREA_KM2,
    COMUNA_BOUNDARIES,
    WAREHOUSE_KEY,
    BoundaryError,
    read_boundaries,
)
from crime_weather.sources.catalog import BOUNDARIES, newest_first


@dg.asset(
    name=COMUNA_BOUNDARIES,
    group_name="geography",
    kinds={"geojson"},
    description="BA Data 'Comunas' polygons (15), validated: comunas 1..15, closed rings inside the city, "
    f"total area {CITY_AREA_KM2:.0f} km2 +-{AREA_TOLERANCE:.0%}.",
)
def comuna_boundaries(
    context: dg.AssetExecutionContext, landing: LandingZone, warehouse: dg.ResourceParam[WarehouseIOManager]
) -> dg.MaterializeResult:
    """The newest comunas file of the landing zone, normalised, at <warehouse>/comuna_boundaries/."""
    files = [file for file in newest_first(landing.files()) if file.kind == BOUNDARIES]
    if not files:
        raise dg.Failure(
            f"No comunas boundaries file in the landing zone {landing.uri}: drop BA Data's comunas.geojson "
            "there (acquisition fetches it from the official source or the mirror folder)."
        )
    file = files[0]
    try:
        boundaries = read_boundaries(landing.store.read(file.key), file.key)
    except BoundaryError as error:
        raise dg.Failure(
            description=str(error),
            metadata={
                "file": file.key,
                "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in error.problems)),
            },
        ) from error
    warehouse.store.write(WAREHOUSE_KEY, boundaries.to_bytes())
    context.log.info(
        f"{file.key}: 15 comunas, {boundaries.total_area_km2:.1f} km2, {boundaries.vertices} vertices"
    )
    return dg.MaterializeResult(
        metadata={
            "comunas": len(boundaries.area_km2),
            "total_area_km2": dg.MetadataValue.float(round(boundaries.total_area_km2, 2)),
            "vertices": boundaries.vertices,
            "source_file": file.key,
            "warehouse": dg.MetadataValue.path(f"{warehouse.store.uri.rstrip('/')}/{WAREHOUSE_KEY}"),
        }
    )


boundaries_job = dg.define_asset_job(
    "boundaries",  # not the asset's name: a job and an op may not share one
    selection=dg.AssetSelection.assets(comuna_boundaries),
    executor_def=dg.in_process_executor,
    tags={STAGE_TAG: "boundaries"},
    description="Validate the newest comunas boundaries file and store it for the API.",
)
