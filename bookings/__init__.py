"""bookings app: see README "Architecture"."""
