"""Withdrawal: where a drawing is taken back, by its drawer or by the collector at their request."""
