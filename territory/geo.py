"""Where the inventory's schematic kilometres lie on the Earth, and back.

The inventory draws zones and devices on a flat map in kilometres east and north of an
origin. A feed that speaks latitude and longitude (GBFS, NGSI-LD) needs that origin: an
equirectangular projection around it is exact to a few metres across a city, which is
all a station's position needs.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

EARTH_RADIUS_KM = 6371.0088


class GeoOrigin(BaseModel):
    """The point of the Earth at the schematic map's (0, 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latitude: float = Field(ge=-85, le=85, description="Latitude of x = y = 0, degrees north.")
    longitude: float = Field(ge=-180, le=180, description="Longitude of x = y = 0, degrees east.")

    def to_km(self, latitude: float, longitude: float) -> tuple[float, float]:
        """(x, y): kilometres east and north of the origin."""
        east = math.radians(longitude - self.longitude) * math.cos(math.radians(self.latitude))
        north = math.radians(latitude - self.latitude)
        return east * EARTH_RADIUS_KM, north * EARTH_RADIUS_KM

    def to_degrees(self, x_km: float, y_km: float) -> tuple[float, float]:
        """(latitude, longitude) of the point x km east and y km north of the origin."""
        latitude = self.latitude + math.degrees(y_km / EARTH_RADIUS_KM)
        longitude = self.longitude + math.degrees(
            x_km / (EARTH_RADIUS_KM * math.cos(math.radians(self.latitude)))
        )
        return latitude, longitude
