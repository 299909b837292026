"""The platform key, read from Secrets Manager through Powertools' parameters utility (cached)."""
from __future__ import annotations


class SecretsManagerPlatformKey:
    def __init__(self, secret_name: str, max_age_seconds: int, region: str):
        self._name = secret_name
        self._max_age = max_age_seconds
        self._region = region
        self._provider = None

    def current(self) -> str | None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        if self._provider is None:
            import boto3

            self._provider = SecretsProvider(boto3_client=boto3.client("secretsmanager", region_name=self._region))
        try:
            return self._provider.get(self._name, max_age=self._max_age)
        except GetParameterError:
            return None
