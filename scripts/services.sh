# Sourced by scripts/test: makes sure PostgreSQL and Redis answer, starting them if they are installed but down.
# Tests use NQSYNC_TEST_DATABASE_URL / NQSYNC_TEST_REDIS_URL when set; otherwise the local default ports.

_port_open() { python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1', $1)))"; }

ensure_postgres() {
  [ -n "${NQSYNC_TEST_DATABASE_URL:-}" ] && return 0
  _port_open 5432 && return 0
  echo "== PostgreSQL does not answer on 127.0.0.1:5432; trying to start it"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 50); do _port_open 5432 && return 0; sleep 0.2; done
  fi
  local initdb
  initdb="$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -n "$initdb" ]; then
    local dir=/tmp/nqsync-pg bin
    bin="$(dirname "$initdb")"
    if [ ! -d "$dir/data" ]; then
      mkdir -p "$dir" && chown postgres "$dir" 2>/dev/null || true
      runuser -u postgres -- "$bin/initdb" --no-sync -A trust -U postgres -D "$dir/data" >/dev/null
    fi
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p 5432 -k $dir -c fsync=off" start >/dev/null
    _port_open 5432 && return 0
  fi
  echo "PostgreSQL is not running and could not be started. Install it: apt-get install -y postgresql" >&2
  return 1
}

ensure_redis() {
  [ -n "${NQSYNC_TEST_REDIS_URL:-}" ] && return 0
  _port_open 6379 && return 0
  echo "== Redis does not answer on 127.0.0.1:6379; trying to start it"
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
    for _ in $(seq 50); do _port_open 6379 && return 0; sleep 0.1; done
  fi
  echo "Redis is not running and could not be started. Install it: apt-get install -y redis-server" >&2
  return 1
}

ensure_faketime() {
  # The fault tests run node processes under libfaketime to prove clocks do not matter; without it they skip that part.
  command -v faketime >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== Installing faketime (for the skewed-clock fault test)"
    (apt-get update -qq && apt-get install -y -qq faketime) >/dev/null 2>&1 || echo "   (not installed; that test will be skipped)"
  fi
  return 0
}

ensure_chromium() {
  # The browser tests (tests/browser/) drive Debian's Chromium through Playwright and never download a browser;
  # without /usr/bin/chromium they skip, saying why. chromium-l10n makes the browser's own controls (the file
  # picker's button) speak Vietnamese, as on an office's computer.
  [ -x /usr/bin/chromium ] && [ -f /usr/lib/chromium/locales/vi.pak ] && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== Installing chromium (for the browser tests)"
    (apt-get update -qq && apt-get install -y -qq chromium chromium-l10n) >/dev/null 2>&1 || echo "   (not installed; the browser tests will be skipped)"
  fi
  return 0
}

ensure_nginx() {
  # The TLS proxy test (tests/deploy/test_tls_proxy.py) runs Debian's nginx, as a plain process of its own on a
  # loopback port, in front of a real hub; without /usr/sbin/nginx it skips, saying why.
  [ -x /usr/sbin/nginx ] && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== Installing nginx (for the TLS proxy test)"
    (apt-get update -qq && { apt-get install -y -qq nginx-light || apt-get install -y -qq nginx; }) >/dev/null 2>&1 \
      || echo "   (not installed; the TLS proxy test will be skipped)"
  fi
  return 0
}
