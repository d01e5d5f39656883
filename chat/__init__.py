"""chat app: see README "Architecture"."""
