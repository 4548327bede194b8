"""Offload's configuration defaults.

Every key can be overridden from the environment with the ``OFFLOAD_`` prefix
(``OFFLOAD_INVITE_QUOTA=5``; values are parsed as JSON when they can be), and
``DATABASE_URL`` sets the database. Business knobs live here, never as literals in code.
"""

from datetime import timedelta


class Config:
    # Production refuses to start without a SECRET_KEY from the environment.
    PRODUCTION = False
    SECRET_KEY = "dev-only-not-secret"
    # None means: SQLite in the instance folder (filled in by create_app).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SITE_NAME = "Offload"
    # Links in e-mails are built from this, never from the request's Host header.
    CANONICAL_URL = "http://127.0.0.1:5000"
    CURRENCY = "USD"
    # Pages and e-mails show times in the member's own zone (chosen at sign-up from the
    # browser, changed in the settings); visitors, and mail to someone not a member yet,
    # in this one. Dates, numbers and money are formatted for this locale (Flask-Babel).
    DEFAULT_TIMEZONE = "UTC"
    BABEL_DEFAULT_LOCALE = "en"

    # Membership
    INVITE_QUOTA = 3
    INVITE_TTL_DAYS = 14
    CONFIRM_MAX_AGE_SECONDS = 3 * 24 * 3600
    RESET_MAX_AGE_SECONDS = 3600
    PASSWORD_MIN_LENGTH = 10
    # Werkzeug's scrypt (n=2**15, r=8, p=1: ~0.15 s here); the tests use a cheap one
    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_MAX_LENGTH = 128
    # How many of the most common passwords (zxcvbn's ranked list) are refused.
    COMMON_PASSWORDS_REFUSED = 10000

    # Two-factor log-in (TOTP, offload/accounts/two_factor.py). Admins must have it
    # before any admin page works (production refuses to start with this off; `make run`
    # turns it off so the demo admin logs in with the password alone). An admin decision
    # (a POST under /admin) needs a code entered within TWO_FACTOR_FRESH_MINUTES, and so
    # do a member's withdrawal above TWO_FACTOR_STEP_UP_MINOR and a new API token with the
    # wallet scope when their 2FA is on; the API refuses such a withdrawal (403: the
    # site asks for the code). With the requirement on, admin powers count only in a
    # session that passed the code (a POST: a fresh one), never through an API token.
    TWO_FACTOR_REQUIRED_FOR_ADMINS = True
    TWO_FACTOR_FRESH_MINUTES = 15
    TWO_FACTOR_STEP_UP_MINOR = 100_00
    # the code step of a log-in: how long after the password it may be entered, and how
    # many wrong codes one pending log-in may take (the log-in limits apply as well)
    TWO_FACTOR_LOGIN_SECONDS = 300
    TWO_FACTOR_ATTEMPTS = 5
    # wrong codes per account across all its pending log-ins and addresses (a lock-out
    # for the rest of the window: whoever types them knows the password), and how many
    # within an hour mail the member to change their password
    TWO_FACTOR_WRONG_CODES_PER_ACCOUNT = "10 per hour"
    TWO_FACTOR_WRONG_CODES_MAIL_AFTER = 5
    TWO_FACTOR_BACKUP_CODES = 10
    # Passkeys (WebAuthn, offload/accounts/passkeys.py), a second way to give the second
    # factor. The relying party's id (the site's domain) and the origin the browser
    # reports; empty: taken from CANONICAL_URL (development; browsers refuse an IP
    # address as the id, so use http://localhost:5000 there). Production refuses to
    # start without both. A ceremony's challenge lives this long; a member keeps at
    # most PASSKEYS_MAX.
    WEBAUTHN_RP_ID = ""
    WEBAUTHN_ORIGIN = ""
    WEBAUTHN_CHALLENGE_SECONDS = 300
    PASSKEYS_MAX = 10

    # Sessions and cookies
    # A session ends this long after it was last written (log-in, a flash, the CSRF
    # token): the signed cookie's own timestamp, checked on every request, not only the
    # cookie's Expires. A page view that changes nothing does not write it again
    # (re-signing on every response cost every page a signature and a Set-Cookie), so
    # the lifetime runs from the last change, not from the last page view.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_NAME = "remember_token"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # a signed-in device's "last seen" (the sessions page) is written at most this often,
    # so a page view does not write every time
    SESSION_SEEN_EVERY_SECONDS = 300
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Rate limits (Flask-Limiter); set OFFLOAD_RATELIMIT_STORAGE_URI=redis://... to share them
    RATELIMIT_STORAGE_URI = "memory://"
    # memory:// keeps counts per process: production refuses it unless this says that one
    # process serves the site (with several workers each limit lets through that many times)
    RATELIMIT_SINGLE_PROCESS = False
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_ADDRESS = "20 per minute; 200 per day"
    # failed log-ins per account from one address (its username and e-mail count as one);
    # per address, so a stranger's failures never lock the owner out
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    RESET_LIMIT = "5 per hour"  # per address, and per account from one address
    # reset mails one member receives, however many addresses ask (more change nothing
    # the asker sees): counted from the mails queued for them in the window
    RESET_MAILS_PER_ACCOUNT = 3
    RESET_MAILS_WINDOW_SECONDS = 3600
    EMAIL_CHANGE_LIMIT = "5 per hour"  # tries to change the e-mail address, per member
    INVITE_LIMIT = "10 per hour"
    CONTACT_LIMIT = "5 per hour"  # messages through the contact page, per address
    PHOTO_LIMIT = "10 per hour"  # profile photo uploads, per member
    # The fragment cache (offload/core/cache.py): each process's own unless
    # OFFLOAD_CACHE_REDIS_URL=redis://... shares one between every worker and host
    CACHE_REDIS_URL = None
    CACHE_DEFAULT_TIMEOUT = 24 * 3600  # fragments are versioned; this only ages them out
    CACHE_THRESHOLD = 20_000  # SimpleCache: fragments one process keeps at most
    # Hops of trusted proxies in front of the app (X-Forwarded-For); 0 = none.
    PROXY_FIX_X_FOR = 0

    # Operations (offload/observability): log lines as JSON ("json") or key=value text
    # ("text"); None: JSON in production, text otherwise. /metrics answers only
    # "Authorization: Bearer <METRICS_TOKEN>" (unset: 404). Errors go to Sentry when
    # SENTRY_DSN is set.
    LOG_FORMAT = None
    METRICS_TOKEN = ""
    SENTRY_DSN = None

    # Uploads: stored under generated names outside the static folder.
    UPLOAD_FOLDER = None  # default: <instance>/uploads
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    # forms that take several documents at once (a milestone delivery: up to 5)
    MAX_CONTENT_LENGTH_BY_ENDPOINT = {
        "milestones.deliver": 5 * DOCUMENT_MAX_BYTES + 2 * 1024 * 1024}
    DOCUMENT_TYPES = ["pdf", "png", "jpg"]
    # Profile photos: re-encoded to square JPEGs of these sizes (px); the upload may be
    # at most this many bytes and pixels (a larger one could be a decompression bomb).
    PHOTO_TYPES = ["jpg", "png", "webp"]
    PHOTO_MAX_BYTES = 8 * 1024 * 1024
    PHOTO_MAX_PIXELS = 40_000_000
    # PNG and WebP can't be decoded at a reduced scale as JPEG can: decoded whole, at up
    # to 4 bytes a pixel, from a file of a few KB if it is one flat colour. 16 MP (64 MB
    # while it is processed) is more than any screenshot or exported graphic needs.
    PHOTO_MAX_PIXELS_UNDRAFTED = 16_000_000
    PHOTO_SIZES = [256, 64]

    # Mail: "log" prints messages to the log (development), "smtp" sends them.
    MAIL_BACKEND = "log"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Offload <no-reply@offload.invalid>"
    # a mail server that stops answering fails the attempt (retried later) after this;
    # keep it well under the outbox claim (300 s), or another runner sends it again
    MAIL_TIMEOUT_SECONDS = 30
    # No web request sends mail: ``flask jobs worker`` delivers the outbox (retries
    # after OUTBOX_BACKOFF_BASE_SECONDS * 2**(attempts - 1)) and runs the periodic jobs.
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_BACKOFF_BASE_SECONDS = 60
    # The worker wakes at once on PostgreSQL (LISTEN/NOTIFY) and looks anyway every
    # WORKER_POLL_SECONDS (retries falling due, the periodic jobs); on SQLite, which has
    # no NOTIFY, it looks every WORKER_SQLITE_POLL_SECONDS.
    WORKER_POLL_SECONDS = 10.0
    WORKER_SQLITE_POLL_SECONDS = 1.0
    # A runner holds a periodic job this long at most; one that died frees it then.
    JOB_LEASE_SECONDS = 600

    # Data exports (Settings → "Export my data"): the mailed link works this long, then
    # the zip is deleted; a member may ask once per EXPORT_EVERY_MINUTES; a run of the
    # job builds at most EXPORT_BUILDS_PER_RUN; a build not finished after
    # EXPORT_BUILD_LEASE_MINUTES (its worker died) is taken over by another; a zip that
    # grows past EXPORT_MAX_BYTES stops there and the export fails, saying so.
    EXPORT_LINK_HOURS = 72
    EXPORT_EVERY_MINUTES = 60
    EXPORT_BUILDS_PER_RUN = 5
    EXPORT_BUILD_LEASE_MINUTES = 30
    EXPORT_MAX_BYTES = 2 * 1024**3
    EXPORT_LINK_LIMIT = "5 per hour"  # "Send the link again" of a data export, per member

    # Money: integer minor units, rates in basis points (1% = 100)
    COMMISSION_BPS = 1000  # 10% of the invoiced amount on referral gigs...
    PLATFORM_COMMISSION_BPS = 300  # ...of which 3% to the platform; the referrer gets the rest
    PREPAID_CLICK_FEE_MINOR = 100
    POSTPAID_CLICK_FEE_MINOR = 200
    MAX_AMOUNT_MINOR = 1_000_000_00  # the most any single money form accepts
    MIN_WITHDRAWAL_MINOR = 1_00
    # Refuse (instead of logging) a ledger account locked below one the transaction
    # already holds: the order that prevents deadlocks (the tests turn it on)
    LEDGER_STRICT_LOCK_ORDER = False
    # "sandbox" credits deposits at once; "stripe" sends the member to Stripe Checkout
    # (set OFFLOAD_STRIPE_SECRET_KEY, OFFLOAD_STRIPE_WEBHOOK_SECRET and
    # OFFLOAD_STRIPE_CONNECT_WEBHOOK_SECRET with it)
    PAYMENT_PROVIDER = "sandbox"
    STRIPE_SECRET_KEY = ""
    STRIPE_WEBHOOK_SECRET = ""  # the webhook endpoint's signing secret (whsec_...)
    # the Connect endpoint's own signing secret (events on connected accounts)
    STRIPE_CONNECT_WEBHOOK_SECRET = ""
    STRIPE_API_BASE = "https://api.stripe.com"  # only the tests point it elsewhere
    # where Checkout's pages are served (a custom domain's, if Stripe serves them on one):
    # the wallet's Content-Security-Policy lets its deposit form be redirected there
    STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
    STRIPE_TIMEOUT_SECONDS = 10
    # refusals of a failed payout's transfer reversal after which the job stops asking
    # Stripe and the admins' withdrawal queue shows it (Stripe replays a refusal per key)
    STRIPE_REVERSAL_REFUSALS_MAX = 3

    # Gigs
    GIG_DEADLINE_MAX_DAYS = 365
    GIG_ATTACHMENTS_MAX = 10
    GIG_QUESTIONS_PER_MEMBER = 10
    # A search ranks only the newest this-many matches, so a common word costs what a
    # rare one does; the board says when a search was capped.
    GIG_SEARCH_CANDIDATES = 1000
    # The gig page's "members whose skills match" ranks only the newest this-many
    # members with each of the gig's skills.
    MEMBER_MATCH_CANDIDATES = 200

    # Offers: the most days a member can offer to deliver in
    OFFER_DAYS_MAX = 365
    # how many ranked offers the poster sees on the gig page (the rest on its offers page)
    OFFERS_ON_GIG_PAGE = 10
    MESSAGES_PAGE_SIZE = 50

    # Projects: no timeline event for this many days and the referrer is told
    PROJECT_STALL_DAYS = 7
    # Reviews: each side reviews the other within this many days of completion; a
    # rating is the Bayesian average (RATING_PRIOR counted as RATING_PRIOR_WEIGHT reviews)
    REVIEW_WINDOW_DAYS = 14
    RATING_PRIOR = 4.0
    RATING_PRIOR_WEIGHT = 5
    # Referral commissions not covered by the wallet at completion are due within this
    # many days; the performer is reminded when this many days are left
    COMMISSION_DUE_DAYS = 14
    COMMISSION_REMIND_DAYS = 3
    # An invoiced amount under the agreed price: days the referrer has to accept or
    # contest it (after that it counts as accepted)
    INVOICE_REVIEW_DAYS = 14

    # Keyword alerts: how many a member may keep; how many gigs one message lists; the
    # UTC hour from which the daily digests go out; how long a stop link works; how far
    # back a run looks again for gigs committed just after the previous run
    ALERTS_PER_MEMBER = 20
    ALERT_GIGS_PER_MESSAGE = 20
    ALERT_DIGEST_HOUR = 6
    ALERT_STOP_LINK_DAYS = 365
    ALERT_SLACK_SECONDS = 600

    # Lists
    PAGE_SIZE = 20
    # CSV downloads (the wallet history, the platform's revenue and commissions) read
    # this many rows per query while they stream
    CSV_PAGE_SIZE = 500

    # The JSON API (offload/api): requests per personal access token (per address for
    # requests without a valid one); the expiries a member chooses from for a new token
    # (days); how many live tokens a member may have
    API_RATE_LIMIT = "300 per minute"
    PERSONAL_TOKEN_DAYS = [7, 30, 90, 365]
    PERSONAL_TOKENS_MAX = 20

    # Webhooks (offload/webhooks): endpoints a member may register (site-wide ones share
    # one such count); how long a receiver may take to answer; the waits after each
    # consecutive failure (the last one repeats); and after how many consecutive failures
    # the endpoint is turned off and its owner told. Plain http:// to 127.0.0.1 or
    # localhost only when WEBHOOKS_ALLOW_HTTP_LOOPBACK is on (development, tests).
    WEBHOOK_ENDPOINTS_MAX = 5
    WEBHOOK_TIMEOUT_SECONDS = 5.0
    WEBHOOK_RETRY_SECONDS = [5, 300, 1800, 7200, 18000, 36000]
    WEBHOOK_MAX_FAILURES = 8
    WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    # Atom feeds (offload/feeds): entries in a feed, and requests per address (feed
    # readers poll; the URL's token is the only credential)
    FEED_ENTRIES = 50
    FEED_LIMIT = "120 per minute"
