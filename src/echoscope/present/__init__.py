"""Presenting results: the HTML report, tables and exports. Reads the store only."""
