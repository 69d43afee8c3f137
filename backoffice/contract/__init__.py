"""The Drizzle contract's tooling, in one place.

``migrator`` applies ``drizzle/`` the way drizzle-orm's migrator does, ``report`` compares the
live database with the models and the contract (drift, migrations), ``fields`` holds the model
fields for the contract's column types (PostgreSQL enums, Better-Auth's UTC timestamps).
"""
