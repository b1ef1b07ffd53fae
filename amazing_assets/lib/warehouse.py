"""Dagster resource naming where the warehouse and the landing zone are, and how to reach S3.

S3 settings come from environment variables through ``dg.EnvVar`` (never from code). Every step
that uses the warehouse first runs a cheap preflight, so wrong credentials, a missing bucket or an
unreachable endpoint fail the run at once with the setting to fix, instead of deep inside Spark.
"""

import botocore.exceptions
import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from amazing_assets.lib.launch_guard import DeploymentResource
from amazing_assets.lib.storage import Location, S3Settings, StorageConfigError, ensure_directory
from amazing_assets.lib.tables import table_location


class StorageAccessError(RuntimeError):
    """The object store refused or could not be reached; the message names the setting."""


class WarehouseResource(DeploymentResource):
    """Warehouse and landing URIs (local directory or ``s3://bucket/prefix``) and S3 access."""

    warehouse_uri: str = Field(description="AMAZING_WAREHOUSE: local dir or s3://bucket/prefix")
    landing_uri: str = Field(description="AMAZING_LANDING: local dir or s3://bucket/prefix")
    s3_endpoint: str | None = Field(
        default=None, description="AMAZING_S3_ENDPOINT (MinIO, Ceph...)"
    )
    s3_region: str = Field(default="us-east-1", description="AWS_REGION")
    aws_access_key_id: str | None = Field(default=None, description="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(default=None, description="AWS_SECRET_ACCESS_KEY")

    def _s3(self) -> S3Settings:
        return S3Settings(
            endpoint_url=self.s3_endpoint,
            region=self.s3_region,
            access_key_id=self.aws_access_key_id,
            secret_access_key=self.aws_secret_access_key,
        )

    def warehouse(self) -> Location:
        location = Location.parse(self.warehouse_uri, self._s3(), setting="AMAZING_WAREHOUSE")
        ensure_directory(location)
        return location

    def landing(self) -> Location:
        return Location.parse(self.landing_uri, self._s3(), setting="AMAZING_LANDING")

    def table(self, name: str) -> Location:
        """Table ``name``'s location (raw-zone tables under ``raw/``, see ``tables``)."""
        return table_location(self.warehouse(), name)

    def s3_client(self, max_attempts: int = 5):
        """A boto3 client from dagster-aws' S3Resource, for listings and preflight checks."""
        return S3Resource(
            endpoint_url=self.s3_endpoint,
            region_name=self.s3_region,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            max_attempts=max_attempts,
        ).get_client()

    def preflight(self) -> None:
        """Fail fast, naming the setting, when a bucket cannot be used."""
        for setting, location in (
            ("AMAZING_WAREHOUSE", self.warehouse_uri),
            ("AMAZING_LANDING", self.landing_uri),
        ):
            parsed = Location.parse(location, self._s3(), setting=setting)
            if parsed.is_s3:
                check_bucket(
                    self.s3_client(max_attempts=2), parsed.bucket or "", setting, self.s3_endpoint
                )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)  # launch-time overrides refused first
        try:
            self.preflight()
        except StorageConfigError as error:
            raise dg.Failure(str(error)) from error


def check_bucket(client, bucket: str, setting: str, endpoint: str | None) -> None:
    where = f"AMAZING_S3_ENDPOINT={endpoint}" if endpoint else "the AWS S3 endpoint"
    try:
        client.head_bucket(Bucket=bucket)
    except botocore.exceptions.EndpointConnectionError as error:
        raise StorageAccessError(
            f"cannot reach {where} ({error}); check AMAZING_S3_ENDPOINT and that the store is up"
        ) from error
    except botocore.exceptions.NoCredentialsError as error:
        raise StorageAccessError(
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from error
    except botocore.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchBucket") or status == 404:
            raise StorageAccessError(
                f"bucket {bucket!r} does not exist at {where}: create it, or fix {setting}"
            ) from error
        if (
            code in ("403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied")
            or status == 403
        ):
            raise StorageAccessError(
                f"{where} refused the credentials for bucket {bucket!r} ({code}): check "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and the user's policy on the bucket)"
            ) from error
        raise StorageAccessError(f"S3 error on bucket {bucket!r} for {setting}: {error}") from error
