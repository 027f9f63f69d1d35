"""The dashboard under /app: server-rendered pages, a little hand-written JS, live updates."""
