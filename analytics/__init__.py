"""analytics app: see README "Architecture"."""
