"""Operations: Dagster and project logs as ECS JSON, shipped to ELK without losing records."""
