"""The demo gateway that ``manage.py seed_demo`` fills a dev or demo database with.

The object graph (tenants, users, accounts, sessions, servers, tools, resources, health checks,
API keys) is made through the apps' factories (``people``, ``servers``, ``api_keys``, sharing
``graph``), from the static tables of ``catalog``. The two logs are loaded with set-based SQL
(``audit_logs``, ``request_logs``), one ``INSERT ... SELECT FROM generate_series`` per day of
history and ordered by time (``logs``), so ids grow with ``created_at`` as in the gateway's
append-only tables (the BRIN index on ``audit_logs.created_at`` relies on that). ``seeding`` runs
it all in one transaction. The demo passwords are public: never seed a database that real people
can reach.
"""
