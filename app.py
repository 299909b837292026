"""Roster: wires the Chalice app. Nothing else lives here."""
from chalice import Chalice

from chalicelib.handlers import register

app = Chalice(app_name="roster", configure_logs=False)
register(app)
