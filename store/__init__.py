"""SEAM's storage layer: one SQLite database, repositories returning attrs models."""
