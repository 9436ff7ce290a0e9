"""The review app: physicians draft, check, correct, approve and export letters in the browser.

``create_app`` (main.py) builds the FastAPI application; pages and the JSON API under ``/api/v1``
call the same service functions (services/), so every rule lives in one place.
"""
