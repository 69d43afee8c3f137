"""gunicorn settings for the back office in production: ``gunicorn -c gunicorn.conf.py``.

Each setting can be changed through the environment named beside it; README "Deploy" explains
them. Why these choices:

- ``gthread`` workers, one per core, each with ``GUNICORN_THREADS`` threads. An export streams
  for as long as its rows take (about 40 s for 10 million rows) and a page waits on the database
  most of its time, so threads keep a worker serving other staff while one of its threads
  streams; with ``sync`` workers one export held a whole worker and halved everyone else's
  throughput. The GIL makes more workers than cores pointless for the Python part of a page.
- ``timeout`` cannot kill an export: a gthread worker's main loop tells the arbiter it is alive
  every second whatever its threads are doing, so ``timeout`` only catches a worker whose main
  loop is stuck. (The sync worker's heartbeat stops while it serves a request, which is how the
  default 30 s killed exports mid-stream.) A runaway query is bounded by the database's
  ``statement_timeout`` instead (15 s for pages, 30 min for exports).
- ``graceful_timeout`` is how long a deploy or restart lets requests in flight finish: long
  enough for a large export, after which it is cut and the person downloads it again.
- No access log by default: the back office writes one line per request itself, with the
  request id the audit rows carry and the staff member (``backoffice.request_log``). If one is
  switched on, its format holds the path without the query string, and no header or cookie.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

wsgi_app = "backoffice.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "120"))
# Behind a proxy that keeps connections open to the back office.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# The heartbeat file on a memory filesystem: a slow or full disk must not look like a dead worker.
if Path("/dev/shm").is_dir():  # noqa: S108 - gunicorn's own advice for containers
    worker_tmp_dir = "/dev/shm"  # noqa: S108

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn >= 25 opens a control socket in the home directory by default; two instances on one
# machine would share it. Opt in with a path of its own.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
