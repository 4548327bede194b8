from flask.cli import AppGroup

accounts_cli = AppGroup("accounts", help="Member accounts.")
