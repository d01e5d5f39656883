"""The staff back office at ``/console/``: shell, tenant switcher and (per app) pages."""
