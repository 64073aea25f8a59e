"""Insights: the customer metrics cocreate exists to improve (perceived, observed and future behaviour)."""
