"""The officer HTTP API (Flask) and the officer console: JSON in, JSON out, bearer tokens, never a 500.

``issuer.http.app.create_app`` builds everything; nothing happens at import time, and this package's
``__init__`` imports nothing, so that wallet_api can share ``issuer.http.errors`` without loading the
officer side. The views are thin: each reads the request, calls one issuer.desk.OfficerDesk method (which
checks role and district and audits) and shapes the answer. Flask lives only here and in wallet_api.
"""
