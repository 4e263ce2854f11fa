"""Consistent snapshots of the database and every media file, and restoring them."""
