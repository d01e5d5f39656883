"""routing app: see README "Architecture"."""
