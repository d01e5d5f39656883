"""integrations app: see README "Architecture"."""
