"""Trace: turning links into provenance (time, order, parents, attribution)."""
