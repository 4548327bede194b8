"""Pages under load: gunicorn (gunicorn.conf.py) on generated data, driven by wrk, on
SQLite and PostgreSQL, at 1,000 and 100,000 gigs. Run with ``make bench``; details and
the latest summary in bench/README.md.

For each database and size: a scratch database, ``flask db upgrade``, ``flask demo
generate``, gunicorn on a free 127.0.0.1 port, log-ins through the real log-in form,
then for each page and each connection count one wrk run, all of that ``--runs`` times
interleaved (page by page, so a slow minute hurts every page alike); the table shows
medians, and each page's throughput as a ratio of the bare endpoint's in the same run,
the gunicorn workers' CPU per request (from /proc, over each wrk run) and the page's own
CPU in-process (bench/inprocess.py: the app called directly, no server), so a reader can
tell what the server costs from what the page costs.
After the offers, ``flask ledger check`` must pass. Every server started is stopped and
every scratch folder removed, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from databases import free_port, postgresql_database, server_version, sqlite_database  # noqa: E402

PASSWORD = "offload demo passphrase"  # offload.demo.data.DEMO_PASSWORD
AGENT = "offload-bench"
OFFER_SESSIONS = 32  # members placing offers, each with its own session
CSRF = r'name="csrf_token"(?: type="hidden")? value="([^"]+)"'


@dataclass
class Page:
    name: str
    path: str
    cookie: str = ""  # whose session; "" for the bare endpoint
    lua: str | None = None  # a wrk script (the offer POST)


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors
    requests: int
    cpu_ms: float = 0.0  # the gunicorn workers' CPU time per request over the run
    placed: int | None = None  # offer runs: answers that were a redirect to a new offer


@dataclass
class Result:
    database: str
    gigs: int
    page: str
    connections: int
    samples: list[Sample] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # rps / bare rps, per run
    inprocess_ms: float | None = None  # the page's CPU called in-process (no server)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


# --- the server -------------------------------------------------------------------------

def app_env(url: str, secret: str) -> dict[str, str]:
    """What gunicorn and the flask commands run with: production-like (debug off, the
    real CSRF and session checks); mail stays in the outbox (no worker runs); no
    rate limits (34 log-ins from one address in a second are the benchmark, not abuse)."""
    return {**os.environ, "DATABASE_URL": url, "OFFLOAD_SECRET_KEY": secret,
            "OFFLOAD_MAIL_BACKEND": "log",
            "OFFLOAD_RATELIMIT_ENABLED": "false", "PYTHONPATH": str(ROOT)}


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "offload", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Server:
    base: str
    pid: int

    def workers_cpu_seconds(self) -> float:
        """User + system CPU of the master's children (the workers) so far, from /proc."""
        ticks = 0
        for pid in _children(self.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a worker that just exited
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


@contextmanager
def gunicorn(env: dict[str, str], log: Path):
    """gunicorn as in production (gunicorn.conf.py), on a free port."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start; see {log}")
        yield Server(base, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def log_in(base: str, username: str) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a fresh session of ``username``."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", AGENT)]
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(CSRF, page).group(1)
    body = urllib.parse.urlencode({"login": username, "password": PASSWORD,
                                   "csrf_token": token}).encode()
    landed = opener.open(f"{base}/login", data=body)
    if "/dashboard" not in landed.geturl():
        raise RuntimeError(f"log-in as {username} failed")
    # the log-in started a new session: its token is on the page it landed on
    token = re.search(CSRF, landed.read().decode()).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token


# --- wrk --------------------------------------------------------------------------------

def find_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package)...", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True,
                       capture_output=True, env={**os.environ,
                                                 "DEBIAN_FRONTEND": "noninteractive"})
        return shutil.which("wrk") or "wrk"
    raise FileNotFoundError("wrk is not installed: apt-get install wrk")


def run_wrk(wrk: str, server: Server, page: Page, connections: int, seconds: float
            ) -> Sample:
    base = server.base
    command = [wrk, "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
               "--latency",
               "--timeout", "10s", "-H", f"User-Agent: {AGENT}"]
    if page.cookie:
        command += ["-H", f"Cookie: {page.cookie}"]
    if page.lua:
        command += ["-s", page.lua]
    cpu_before = server.workers_cpu_seconds()
    done = subprocess.run([*command, base + page.path], capture_output=True, text=True)
    cpu = server.workers_cpu_seconds() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stdout}{done.stderr}")
    sample = parse_wrk(done.stdout)
    sample.cpu_ms = 1000 * cpu / max(sample.requests, 1)
    return sample


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str) -> Sample:
    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * _UNIT[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(map(int, socket_errors.groups())) if socket_errors else 0
    # the offer script's own count: a 302 that isn't to the new offer is a refusal too
    offers = re.search(r"offers placed: (\d+), refused: (\d+)", out)
    if offers:  # every answer but a new offer is an error, and so is a socket error
        errors = int(offers.group(2)) + (sum(map(int, socket_errors.groups()))
                                         if socket_errors else 0)
    return Sample(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                  p50_ms=latency("50"), p99_ms=latency("99"), errors=errors,
                  requests=int(re.search(r"(\d+) requests in", out).group(1)),
                  placed=int(offers.group(1)) if offers else None)


OFFER_LUA = """
-- each request offers on another (gig, member) pair, so none is refused as a repeat
local sessions = {%(sessions)s}
local gigs = {%(gigs)s}
local counter = 0
local offset = %(offset)d
local thread_no = 0
local threads = 0
local all_threads = {}
-- per thread (globals, which done() reads through thread:get): answers that are the
-- new offer (a redirect to /offers/<id>) and any other answer (a refusal, the form again)
placed = 0
refused = 0
function setup(thread)
  thread:set("no", threads)
  threads = threads + 1
  table.insert(all_threads, thread)
end
function init(args)
  thread_no = tonumber(wrk.thread:get("no"))
end
response = function(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status == 302 and string.match(location, "^/offers/%%d+$") then
    placed = placed + 1
  else
    refused = refused + 1
  end
end
function done(summary, latency, requests)
  local p, r = 0, 0
  for _, thread in ipairs(all_threads) do
    p = p + thread:get("placed")
    r = r + thread:get("refused")
  end
  io.write(string.format("offers placed: %%d, refused: %%d\\n", p, r))
end
request = function()
  local k = offset + counter * 2 + thread_no
  counter = counter + 1
  local gig = gigs[(k %% #gigs) + 1]
  local s = sessions[(math.floor(k / #gigs) %% #sessions) + 1]
  local body = "offer-csrf_token=" .. s[2] .. "&offer-idempotency_key=bench-" .. k
    .. "&offer-price=450&offer-days_to_deliver=7&offer-fee_kind=prepaid"
    .. "&offer-cover_letter=Benchmark+offer"
  return wrk.format("POST", "/gigs/" .. gig .. "/offers/new",
    {["Cookie"] = s[1], ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""


def offer_script(folder: Path, sessions: list[tuple[str, str]], gigs: list[int],
                 offset: int) -> str:
    path = folder / f"offer-{offset}.lua"
    path.write_text(OFFER_LUA % {
        "sessions": ", ".join(f'{{"{c}", "{urllib.parse.quote(t)}"}}' for c, t in sessions),
        "gigs": ", ".join(map(str, gigs)), "offset": offset})
    return str(path)


def next_offer_offset(offset: int, sample: Sample, connections: int, pairs: int) -> int:
    """Where the next offer run's (gig, member) pairs start: past every pair this run's
    script could have used (each of wrk's 2 threads takes every other k; requests still
    in flight at the end count too). Past ``pairs`` the script would offer again on a
    pair it already has (a refusal, counted as an error): say so instead."""
    offset += 2 * (sample.requests + connections) + 2
    if offset > pairs:
        raise RuntimeError(f"placing offers used up the {pairs:,} fresh (gig, member) "
                           "pairs; generate more gigs or run shorter")
    return offset


def inprocess(env: dict[str, str], pages: dict[str, tuple[str, str]], rounds: int
              ) -> dict[str, float]:
    """Each page's median CPU milliseconds called in-process (bench/inprocess.py)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "inprocess.py"), "--json",
                           "--rounds", str(rounds), "--pages", json.dumps(pages)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench/inprocess.py failed:\n{done.stdout}{done.stderr}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: row["cpu_ms"] for name, row in found.items()}


# --- one database and size --------------------------------------------------------------

def in_app(env: dict[str, str], script: str) -> str:
    """What ``script`` (Python, run inside an app context of the benchmark's app and
    database) prints last."""
    done = subprocess.run([sys.executable, "-c", "from offload import create_app\n"
                           "with create_app().app_context():\n"
                           + "".join(f"    {line}\n" for line in script.splitlines())],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def offer_count(env: dict[str, str]) -> int:
    """How many offers the database holds: the offer runs' redirects must each have
    made one (a redirect to a member's existing offer is a refusal that looks alike)."""
    return int(in_app(env, "from offload.core.db import db\n"
                           "from offload.offers.models import Offer\n"
                           "from sqlalchemy import func, select\n"
                           "print(db.session.scalar(select(func.count()).select_from(Offer)))"))


def deep_board_path(env: dict[str, str]) -> str:
    """The board page 90% of the way down the newest-first list (its cursor)."""
    return "/gigs?before=" + in_app(env, (
        "from offload.core.db import db, utcnow\n"
        "from offload.gigs.filters import BoardSort, encode_cursor\n"
        "from offload.gigs.models import Gig, OPEN\n"
        "from sqlalchemy import func, select\n"
        "live = select(Gig).where(Gig.state == OPEN, Gig.deadline >= utcnow().date())\n"
        "n = db.session.scalar(select(func.count()).select_from(live.subquery()))\n"
        "gig = db.session.scalars(live.order_by(Gig.published_at.desc(), Gig.id.desc())\n"
        "                         .offset(int(n * 0.9)).limit(1)).one()\n"
        "print(encode_cursor(BoardSort.NEWEST, gig.published_at, gig.id))"))


def bench_one(database: str, url: str, gigs: int, members: int, args, wrk: str,
              folder: Path) -> tuple[list[Result], dict]:
    env = app_env(url, secrets.token_hex(32))
    flask(env, "db", "upgrade")
    report_file = folder / "generated.json"
    started = time.perf_counter()
    flask(env, "demo", "generate", "--members", str(members), "--gigs", str(gigs),
          "--report", str(report_file))
    made = json.loads(report_file.read_text())
    made["generate_seconds"] = round(time.perf_counter() - started)
    deep = deep_board_path(env)
    print(f"{database}, {gigs:,} gigs: generated in {made['generate_seconds']} s",
          file=sys.stderr, flush=True)
    results: dict[tuple[str, int], Result] = {}
    offset = 0
    with gunicorn(env, folder / "gunicorn.log") as server:
        base = server.base
        member, _ = log_in(base, made["login"])
        poster, _ = log_in(base, made["showcase_poster"])
        offerers = [log_in(base, name) for name in made["bench_members"][:OFFER_SESSIONS]]
        users = {member: made["login"], poster: made["showcase_poster"]}
        pages = [Page("bare endpoint", "/healthz"),
                 Page("board", "/gigs", member),
                 Page("search, common word", "/gigs?q=client", member),
                 Page("search, rare word", "/gigs?q=cobol", member),
                 Page("board, deep page", deep, member),
                 Page("gig page, 50 offers", f"/gigs/{made['showcase_gig_id']}", poster),
                 Page("dashboard", "/dashboard", member),
                 Page("project, 500 events", f"/projects/{made['showcase_project_id']}",
                      member),
                 Page("wallet", "/wallet", member),
                 Page("place an offer", "/", "x")]
        for page in pages:
            warm = Page(page.name, page.path if page.name != "place an offer" else "/healthz",
                        page.cookie if page.name != "place an offer" else "")
            run_wrk(wrk, server, warm, 2, 1)  # warm the workers' caches
        made["gunicorn_workers"] = len(_children(server.pid))
        offers_before = offer_count(env)
        for run in range(args.runs):
            for page in pages:
                for connections in args.connections:
                    if page.name == "place an offer":
                        page.lua = offer_script(folder, offerers, made["offer_gig_ids"], offset)
                    sample = run_wrk(wrk, server, page, connections, args.seconds)
                    if page.name == "place an offer":
                        offset = next_offer_offset(offset, sample, connections,
                                                   len(made["offer_gig_ids"]) * len(offerers))
                        # each redirect a new offer: fewer new rows than redirects means
                        # some answered with an offer made before (requests wrk gave up
                        # on at the end may add rows, not take them away)
                        offers_now = offer_count(env)
                        sample.errors += max(0, (sample.placed or 0)
                                             - (offers_now - offers_before))
                        offers_before = offers_now
                    results.setdefault((page.name, connections), Result(
                        database, gigs, page.name, connections)).samples.append(sample)
                    print(f"  run {run + 1}: {page.name:<22} c={connections:<3} "
                          f"{sample.rps:8.1f} req/s  p50 {sample.p50_ms:7.1f} ms  "
                          f"p99 {sample.p99_ms:7.1f} ms  cpu {sample.cpu_ms:5.2f} ms  "
                          f"errors {sample.errors}",
                          file=sys.stderr, flush=True)
    made["locked"] = (folder / "gunicorn.log").read_text().count("database is locked")
    cpu = inprocess(env, {page.name: (page.path, users.get(page.cookie, ""))
                          for page in pages if page.name != "place an offer"}, args.rounds_cpu)
    for (name, _), result in results.items():
        result.inprocess_ms = cpu.get(name)
    made["ledger_check"] = "passed" if "passed" in flask(env, "ledger", "check") else "FAILED"
    for (_, connections), result in results.items():
        bare = results[("bare endpoint", connections)]
        result.ratios = [s.rps / b.rps for s, b in zip(result.samples, bare.samples,
                                                       strict=True)]
    made.pop("offer_gig_ids", None)
    made.pop("bench_members", None)
    return list(results.values()), made


# --- the report -------------------------------------------------------------------------

def render(results: list[Result], notes: list[str], args) -> str:
    lines = [f"# {datetime.now():%Y-%m-%d %H:%M} — {platform.machine()}, "
             f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
             *notes,
             f"gunicorn -c gunicorn.conf.py; wrk -t2, {args.seconds:g} s per run, medians of "
             f"{args.runs} interleaved runs; ratio = req/s ÷ the bare endpoint's in the same "
             "run; cpu = the workers' CPU per request (/proc); in-proc = the page's CPU "
             f"called in-process, no server (median of {args.rounds_cpu} rounds)",
             ""]
    header = (f"{'database':<10} {'gigs':>7} {'page':<22} {'conns':>5} {'req/s':>8} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} {'ratio':>6} {'cpu ms':>6} "
              f"{'in-proc':>7} {'errors':>6}")
    lines += [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.database:<10} {r.gigs:>7,} {r.page:<22} {r.connections:>5} "
            f"{r.median('rps'):>8.1f} {r.median('p50_ms'):>7.1f} {r.median('p99_ms'):>7.1f} "
            f"{r.median('p99_ms') / max(r.median('p50_ms'), 0.001):>7.2f} "
            f"{statistics.median(r.ratios):>6.2f} {r.median('cpu_ms'):>6.2f} "
            f"{_ms(r.inprocess_ms):>7} {sum(s.errors for s in r.samples):>6}")
    sizes = sorted({r.gigs for r in results})
    if len(sizes) == 2:
        small, large = sizes
        lines += ["", f"p50 at {large:,} gigs ÷ p50 at {small:,} gigs (same page, database "
                      "and connections):", ""]
        by_key = {(r.database, r.gigs, r.page, r.connections): r for r in results}
        for r in results:
            if r.gigs == large and (r.database, small, r.page, r.connections) in by_key:
                base = by_key[(r.database, small, r.page, r.connections)]
                lines.append(f"{r.database:<10} {r.page:<22} {r.connections:>5} "
                             f"{r.median('p50_ms') / max(base.median('p50_ms'), 0.001):>6.2f}")
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--gigs", nargs="+", type=int, default=[1_000, 100_000])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--rounds-cpu", type=int, default=50,
                        help="rounds of the in-process CPU measure")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop what we started
    wrk = find_wrk()
    sources = {"sqlite": sqlite_database, "postgresql": postgresql_database}
    results: list[Result] = []
    notes: list[str] = []
    for database in args.databases:
        for gigs in args.gigs:
            with ExitStack() as stack:
                url = stack.enter_context(sources[database]())
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory(
                    prefix="bench-web-")))
                if gigs == args.gigs[0]:
                    notes.append(server_version(url))
                rows, made = bench_one(database, url, gigs, args.members, args, wrk, folder)
                results += rows
                notes.append(f"{database}, {gigs:,} gigs: {json.dumps(made)}")
    report = render(results, notes, args)
    print(report)
    out = ROOT / "bench" / "results" / f"web-{datetime.now():%Y%m%d-%H%M%S}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out.relative_to(ROOT)}", file=sys.stderr)
    failed = [n for n in notes if '"ledger_check": "FAILED"' in n or '"locked": 0' not in n
              and n.startswith(("sqlite,", "postgresql,"))]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
