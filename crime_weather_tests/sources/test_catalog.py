import gzip

from crime_weather.core.storage import BlobInfo
from crime_weather.sources.catalog import (
    CRIME,
    REJECTED,
    SKIPPED,
    WEATHER,
    LandingFile,
    crime_winners,
    describe,
)
from crime_weather_tests import builders


def _info(key: str, landed_at: float = 1.0) -> BlobInfo:
    return BlobInfo(key, "v1", 10, landed_at)


def test_describe_sorts_files_by_content():
    crime = describe(_info("a"), builders.to_csv(builders.release_2020()))
    assert (crime.kind, crime.layout, crime.months) == (CRIME, "delitos_2020", ("2019-03",))
    days = __import__("pandas").date_range("2019-02-27", "2019-03-02")
    weather = describe(_info("b"), builders.gz(builders.to_csv(builders.cammesa(days))))
    assert (weather.kind, weather.layout, weather.months) == (
        WEATHER,
        "cammesa_regional_mean",
        ("2019-02", "2019-03"),
    )
    monthly = describe(_info("c"), b"anio;mes;mm;dias\n1991;enero;190,00;7\n")
    assert monthly.kind == SKIPPED and "monthly" in monthly.detail
    assert describe(_info("d.rds"), gzip.compress(b"X\n\x00\x00")).kind == SKIPPED


def test_unreadable_files_are_rejected_with_the_reason_never_raised():
    garbage = describe(_info("garbage.csv"), b"\x89\x12 random bytes, no header\nmore,stuff,here\n")
    assert garbage.kind == REJECTED and garbage.detail.startswith("garbage.csv: ")
    truncated = describe(_info("t.csv.gz"), gzip.compress(b"x" * 5000)[:-30])
    assert truncated.kind == REJECTED and "truncated" in truncated.detail
    no_dates = builders.release_current()
    no_dates["fecha"] = "sin fecha"
    assert "no rows with a usable date" in describe(_info("n.csv"), builders.to_csv(no_dates)).detail


def test_the_most_recently_landed_crime_file_wins_each_month():
    old = LandingFile("old.csv", "1", 100.0, CRIME, "x", ("2019-01", "2019-02"))
    new = LandingFile("new.csv", "1", 200.0, CRIME, "x", ("2019-02", "2019-03"))
    weather = LandingFile("w.csv", "1", 300.0, WEATHER, "x", ("2019-01",))
    winners = crime_winners([old, new, weather])
    assert {month: file.key for month, file in winners.items()} == {
        "2019-01": "old.csv",
        "2019-02": "new.csv",
        "2019-03": "new.csv",
    }
