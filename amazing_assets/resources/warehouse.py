"""Dagster resource naming where the warehouse and the landing zone are."""

import dagster as dg
from pydantic import Field

from amazing_assets.io.storage import Location, S3Settings, ensure_directory, s3_settings_from_env


class WarehouseResource(dg.ConfigurableResource):
    """Warehouse and landing URIs (local directory or ``s3://bucket/prefix``)."""

    warehouse_uri: str = Field(description="AMAZING_WAREHOUSE: local dir or s3://bucket/prefix")
    landing_uri: str = Field(description="AMAZING_LANDING: local dir or s3://bucket/prefix")

    def _s3(self) -> S3Settings:
        return s3_settings_from_env()

    def warehouse(self) -> Location:
        location = Location.parse(self.warehouse_uri, self._s3(), setting="AMAZING_WAREHOUSE")
        ensure_directory(location)
        return location

    def landing(self) -> Location:
        return Location.parse(self.landing_uri, self._s3(), setting="AMAZING_LANDING")

    def table(self, name: str) -> Location:
        return self.warehouse().child(name)
