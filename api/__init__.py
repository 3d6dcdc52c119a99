"""The scenario service: an HTTP API over the optimizer with a durable SQLite job store.

``eldercare serve`` runs it; `create_app(settings)` builds the FastAPI application.
"""
