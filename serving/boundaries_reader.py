"""The comunas' boundaries for the page's map, read from the warehouse (`comuna_boundaries/comunas.geojson`).

The `comuna_boundaries` asset validates and normalises the file before it stores it, so the API only
reads it, through core.storage (a folder or S3, as Settings say). The projection into SVG paths is done
once per file version (serving.comuna_map.ComunaMap): a request only colours prepared paths.
"""

from __future__ import annotations

import json
import threading

from crime_weather.core.settings import Settings
from crime_weather.core.storage import BlobInfo, BlobStore, open_store
from crime_weather.sources.boundaries import WAREHOUSE_KEY
from serving.comuna_map import ComunaMap


class BoundariesReader:
    """The stored comunas as a prepared map, rebuilt only when the file's version changes."""

    def __init__(self, store: BlobStore, width: int = 560) -> None:
        self.store = store
        self.width = width
        self._cached: tuple[BlobInfo, ComunaMap] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> BoundariesReader:
        return cls(open_store(settings.warehouse, settings.s3_endpoint_url))

    def current(self) -> ComunaMap | None:
        """The map of the stored comunas, or None when the asset has not stored them yet.
        Blocks on the warehouse (a listing per call): call it off the event loop."""
        listed = [info for info in self.store.list("comuna_boundaries/") if info.key == WAREHOUSE_KEY]
        if not listed:
            return None
        info = listed[0]
        with self._lock:
            cached = self._cached
            if cached is None or cached[0].version != info.version:
                cached = (info, ComunaMap(json.loads(self.store.read(info.key)), self.width))
                self._cached = cached
        return cached[1]
