"""The administrators' HTTP API (FastAPI). Only this package imports fastapi."""
