"""SQL Server change data capture connector (``kind: mssql-cdc``)."""

from connectors.mssql_cdc.config import MssqlCdcConfig, MssqlTableConfig

__all__ = ["MssqlCdcConfig", "MssqlTableConfig"]
