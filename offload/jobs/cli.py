# STUB: replaced by the notifications helper
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Periodic jobs (run from cron).")
