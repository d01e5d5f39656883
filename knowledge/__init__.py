"""knowledge app: see README "Architecture"."""
