"""Re-attributing history to the boundaries valid at a moment (`gis-service relocate`), in
this process or on a dask.distributed cluster; the use case is `service.relocate`."""
