"""The browser tracker: tracker.js, hand-written and served as is by api/tracker.py."""
