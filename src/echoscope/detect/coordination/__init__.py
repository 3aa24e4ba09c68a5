"""Coordination: accounts or outlets that act on the same items within minutes, repeatedly.

``actions`` turns the store into (actor, item, time) rows for each kind of item;
``network`` links actors that act on the same item within a time window.
"""
