"""escalations app: see README "Architecture"."""
