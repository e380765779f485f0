"""Dashboard: the operator console over FastAPI and server-sent events."""
